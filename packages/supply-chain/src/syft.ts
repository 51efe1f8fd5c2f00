import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhaseError, execTool } from '@deploy-suite/action-kit';

export interface SbomRequest {
  /** syft binary. */
  syft: string;
  /** The image by digest: registry/repository@sha256:… */
  image: string;
  outDir: string;
  /** File name stem; unique per image so matrix jobs do not collide. */
  stem: string;
  /** Talk plain HTTP to the registry (loopback registries, as docker does). */
  plainHttp: boolean;
  /** DOCKER_CONFIG holding the registry credentials, when the action has its own. */
  dockerConfig?: string;
  /** The platform of an index's image: said to the tool, which otherwise assumes the host's. */
  platform?: string;
}

export interface SbomFiles {
  spdx: string;
  cyclonedx: string;
  /** Packages (not files) in the CycloneDX document. */
  packages: number;
  spdxVersion: string;
  cyclonedxVersion: string;
}

/**
 * Both SBOM formats from one syft run over the pushed image (read from the registry, not from a local
 * daemon or the source tree: what was pushed is what is described).
 */
export async function generateSboms(request: SbomRequest): Promise<SbomFiles> {
  const spdx = join(request.outDir, `${request.stem}.spdx.json`);
  const cyclonedx = join(request.outDir, `${request.stem}.cyclonedx.json`);
  const env: NodeJS.ProcessEnv = {
    SYFT_CHECK_FOR_APP_UPDATE: 'false',
    ...(request.plainHttp ? { SYFT_REGISTRY_INSECURE_USE_HTTP: 'true' } : {}),
    ...(request.dockerConfig ? { DOCKER_CONFIG: request.dockerConfig } : {}),
  };
  const result = await execTool(
    request.syft,
    [
      'scan',
      `registry:${request.image}`,
      ...(request.platform ? ['--platform', request.platform] : []),
      '--quiet',
      '-o',
      `spdx-json=${spdx}`,
      '-o',
      `cyclonedx-json=${cyclonedx}`,
    ],
    { env, stream: false },
  );
  if (result.exitCode !== 0) {
    throw new PhaseError(
      'sbom',
      `syft could not read ${request.image}: ${lastLines(result.stderr || result.stdout)}`,
      'check that the digest was pushed and the registry credentials (registry-username/registry-password) can pull it',
    );
  }
  const spdxDoc = JSON.parse(await readFile(spdx, 'utf8')) as { spdxVersion?: string };
  const cdxDoc = JSON.parse(await readFile(cyclonedx, 'utf8')) as {
    specVersion?: string;
    components?: { type?: string }[];
  };
  // syft lists every file of the image as a component too; packages are the rest.
  const packages = (cdxDoc.components ?? []).filter((c) => c.type !== 'file').length;
  return {
    spdx,
    cyclonedx,
    packages,
    spdxVersion: (spdxDoc.spdxVersion ?? '?').replace(/^SPDX-/, ''),
    cyclonedxVersion: cdxDoc.specVersion ?? '?',
  };
}

export function lastLines(text: string, count = 6): string {
  return text.trim().split('\n').slice(-count).join('\n');
}
