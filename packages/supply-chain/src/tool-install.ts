import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
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

/** The archive of a tool's Linux x86-64 release, at the path its project publishes it under. */
export function releaseArchive(name: ToolName, version: string, releasesUrl: string): { url: string; file: string } {
  const v = version.replace(/^v/, '');
  const base = releasesUrl.replace(/\/+$/, '');
  if (name === 'syft')
    return {
      url: `${base}/anchore/syft/releases/download/v${v}/syft_${v}_linux_amd64.tar.gz`,
      file: `syft_${v}_linux_amd64.tar.gz`,
    };
  return {
    url: `${base}/aquasecurity/trivy/releases/download/v${v}/trivy_${v}_Linux-64bit.tar.gz`,
    file: `trivy_${v}_Linux-64bit.tar.gz`,
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Installs a pinned release of syft or trivy into the runner's tool cache, checking the archive's SHA-256
 * before anything in it is unpacked or run; a later job on the same runner finds it cached. Returns the
 * binary's path.
 */
export async function installTool(request: ToolRequest): Promise<string> {
  // @actions/tool-cache (and its HTTP client) only load when a tool is installed.
  const tc = await import('@actions/tool-cache');
  const version = request.version.replace(/^v/, '');
  const cached = tc.find(request.name, version);
  if (cached) {
    request.log(`${request.name} ${version} from the tool cache`);
    return join(cached, request.name);
  }
  const { url } = releaseArchive(request.name, version, request.releasesUrl);
  request.log(`downloading ${url}`);
  let archive: string;
  try {
    archive = await tc.downloadTool(url);
  } catch (error) {
    throw new PhaseError(
      'install',
      `cannot download ${request.name} ${version} from ${url}: ${(error as Error).message}`,
      `check ${request.name}-version, or install ${request.name} in an earlier step and leave ${request.name}-version empty`,
    );
  }
  // The archive and its unpacked copy sit in RUNNER_TEMP, which a self-hosted runner may keep: only the
  // tool cache keeps the tool.
  try {
    return await unpackVerified(tc, request, archive, url, version);
  } finally {
    await rm(archive, { force: true });
  }
}

async function unpackVerified(
  tc: typeof import('@actions/tool-cache'),
  request: ToolRequest,
  archive: string,
  url: string,
  version: string,
): Promise<string> {
  const actual = await sha256Of(archive);
  if (actual !== request.sha256.toLowerCase()) {
    throw new PhaseError(
      'install',
      `${url} has SHA-256 ${actual}, not the pinned ${request.sha256.toLowerCase()}; it was not unpacked or run`,
      `set ${request.name}-sha256 to the checksum the ${request.name} release lists for this archive (its checksums file), after checking where the difference comes from`,
    );
  }
  const extracted = await tc.extractTar(archive);
  const dir = await tc
    .cacheDir(extracted, request.name, version)
    .finally(() => rm(extracted, { recursive: true, force: true }));
  request.log(`${request.name} ${version} installed (sha256 ${actual})`);
  return join(dir, request.name);
}
