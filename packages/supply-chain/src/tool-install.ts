import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhaseError } from '@deploy-suite/action-kit';

export type ToolName = 'syft' | 'trivy';

export interface ToolRequest {
  name: ToolName;
  /** A release version, with or without the leading v. */
  version: string;
  /** SHA-256 of the release archive, as the release's checksums file lists it: the pin. */
  sha256: string;
  /** Where releases are served: https://github.com, or a mirror with the same paths. */
  releasesUrl: string;
  log: (message: string) => void;
}

/** The names each project gives its Linux archives, by Node's process.arch. */
const ARCHIVE_ARCH: Record<ToolName, Record<string, string>> = {
  syft: { x64: 'linux_amd64', arm64: 'linux_arm64' },
  trivy: { x64: 'Linux-64bit', arm64: 'Linux-ARM64' },
};

/** The archive of a tool's Linux release for this runner's architecture, at the path its project publishes it under. */
export function releaseArchive(
  name: ToolName,
  version: string,
  releasesUrl: string,
  arch: string = process.arch,
): { url: string; file: string } {
  const v = version.replace(/^v/, '');
  const base = releasesUrl.replace(/\/+$/, '');
  const suffix = ARCHIVE_ARCH[name][arch];
  if (!suffix)
    throw new PhaseError(
      'install',
      `${name} publishes Linux releases for x64 and arm64, not ${arch}`,
      `give the path of a ${name} binary built for this runner (input ${name})`,
    );
  const file = name === 'syft' ? `syft_${v}_${suffix}.tar.gz` : `trivy_${v}_${suffix}.tar.gz`;
  const project = name === 'syft' ? 'anchore/syft' : 'aquasecurity/trivy';
  return { url: `${base}/${project}/releases/download/v${v}/${file}`, file };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface InstalledTool {
  /** The binary, unpacked for this run from the verified archive. */
  path: string;
  /** Removes this run's unpacked copy (the tool cache keeps the archive). */
  remove(): Promise<void>;
}

/**
 * A pinned release of syft or trivy, checked against its SHA-256 on every use. The tool cache keeps the
 * release archive, never a binary that is run as it is: on a persistent self-hosted runner an earlier job
 * could have planted one. Each run copies the cached archive into a folder of its own, hashes the copy,
 * and unpacks the binary from it; a cached archive that is not the pin is downloaded again (and checked).
 */
export async function installTool(request: ToolRequest): Promise<InstalledTool> {
  // @actions/tool-cache (and its HTTP client) only load when a tool is installed.
  const tc = await import('@actions/tool-cache');
  const version = request.version.replace(/^v/, '');
  const pin = request.sha256.toLowerCase();
  const { url, file } = releaseArchive(request.name, version, request.releasesUrl);
  // A folder only this run uses (mkdtemp: mode 0700): what is hashed is what is unpacked.
  const work = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), `deploy-suite-${request.name}-`));
  const remove = () => rm(work, { recursive: true, force: true });
  try {
    const archive = join(work, file);
    const cached = tc.find(request.name, version);
    let verified = false;
    if (cached && existsSync(join(cached, file))) {
      await copyFile(join(cached, file), archive);
      const actual = await sha256Of(archive);
      verified = actual === pin;
      if (verified) request.log(`${request.name} ${version} from the tool cache (sha256 ${actual}, checked)`);
      else request.log(`the cached ${file} has SHA-256 ${actual}, not the pinned ${pin}: downloading it again`);
    }
    if (!verified) {
      await rm(archive, { force: true });
      request.log(`downloading ${url}`);
      try {
        await tc.downloadTool(url, archive);
      } catch (error) {
        throw new PhaseError(
          'install',
          `cannot download ${request.name} ${version} from ${url}: ${(error as Error).message}`,
          `check ${request.name}-version, or install ${request.name} in an earlier step and leave ${request.name}-version empty`,
        );
      }
      const actual = await sha256Of(archive);
      if (actual !== pin) {
        throw new PhaseError(
          'install',
          `${url} has SHA-256 ${actual}, not the pinned ${pin}; it was not unpacked or run`,
          `set ${request.name}-sha256 to the checksum the ${request.name} release lists for this archive (its checksums file), after checking where the difference comes from`,
        );
      }
      await tc.cacheFile(archive, file, request.name, version);
      request.log(`${request.name} ${version} installed (sha256 ${actual})`);
    }
    const dir = await tc.extractTar(archive, join(work, 'unpacked'));
    await rm(archive, { force: true });
    return { path: join(dir, request.name), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
