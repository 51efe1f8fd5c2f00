import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhaseError } from '@deploy-suite/action-kit';
import { checksumFor, describePin, releaseArchive, releaseFolder, type ToolRelease } from './tool-release.js';

export interface ToolRequest {
  release: ToolRelease;
  /** Releases hosts to try in order (github.com, a GitHub Enterprise Server, a mirror): the next one only when a download fails. */
  releasesUrls: string[];
  log: (message: string) => void;
}

export interface InstalledTool {
  /** The binary, unpacked for this run from the verified archive. */
  path: string;
  /** Removes this run's unpacked copy (the tool cache keeps the archive). */
  remove(): Promise<void>;
}

type ToolCache = typeof import('@actions/tool-cache');

/** A download that did not arrive (unreachable host, 404): the next releases host may have it. */
class DownloadFailure extends Error {}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function download(tc: ToolCache, url: string, dest: string): Promise<void> {
  try {
    await tc.downloadTool(url, dest);
  } catch (error) {
    throw new DownloadFailure(`${url}: ${(error as Error).message}`);
  }
}

/**
 * A pinned release of syft or trivy, checked against its SHA-256 on every use. The tool cache keeps the
 * release archive, never a binary that is run as it is: on a persistent self-hosted runner an earlier job
 * could have planted one. Each run copies the cached archive into a folder of its own, hashes the copy,
 * and unpacks the binary from it; a cached archive that is not the pin is downloaded again (and checked).
 */
export async function installTool(request: ToolRequest): Promise<InstalledTool> {
  // @actions/tool-cache (and its HTTP client, with the runner's proxy rules) only load when a tool is installed.
  const tc = await import('@actions/tool-cache');
  const { name, version, pin } = request.release;
  const { file } = releaseArchive(name, version, '');
  request.log(describePin(request.release, file));
  // A folder only this run uses (mkdtemp: mode 0700): what is hashed is what is unpacked.
  const work = await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), `deploy-suite-${name}-`));
  const remove = () => rm(work, { recursive: true, force: true });
  const archive = join(work, file);

  /** The SHA-256 the archive must have: the pin, or what the release's checksums file on this host lists. */
  const expectedFrom = async (source: string): Promise<string> => {
    if (!('checksumsFile' in pin)) return pin.sha256;
    const url = `${releaseFolder(name, version, source)}/${pin.checksumsFile}`;
    const listing = join(work, pin.checksumsFile);
    await rm(listing, { force: true });
    await download(tc, url, listing);
    const listed = checksumFor(await readFile(listing, 'utf8'), file);
    if (!listed)
      throw new PhaseError(
        'install',
        `${url} lists no ${file}; nothing was downloaded or run`,
        `check ${name}-version, or set ${name}-sha256 to the archive's checksum`,
      );
    return listed;
  };

  /** Installs from one releases host: the verified archive in `archive`, from the cache or downloaded. */
  const installFrom = async (source: string): Promise<void> => {
    const expected = await expectedFrom(source);
    const cached = tc.find(name, version);
    if (cached && existsSync(join(cached, file))) {
      await copyFile(join(cached, file), archive);
      const actual = await sha256Of(archive);
      if (actual === expected) {
        request.log(`${name} ${version} from the tool cache (sha256 ${actual}, checked)`);
        return;
      }
      request.log(`the cached ${file} has SHA-256 ${actual}, not the pinned ${expected}: downloading it again`);
      await rm(archive, { force: true });
    }
    const { url } = releaseArchive(name, version, source);
    request.log(`downloading ${url}`);
    await download(tc, url, archive);
    const actual = await sha256Of(archive);
    if (actual !== expected) {
      const fix =
        'checksumsFile' in pin
          ? `the release's checksums file and its archive disagree: download from another host (tools-mirror), or set ${name}-sha256 after checking where the difference comes from`
          : pin.from === 'action'
            ? `this is not the ${name} ${version} release this action pins: check what serves ${url} (a proxy or mirror), or give ${name}-version and ${name}-sha256 of a release you checked`
            : `set ${name}-sha256 to the checksum the ${name} release lists for this archive (its checksums file), after checking where the difference comes from`;
      throw new PhaseError(
        'install',
        `${url} has SHA-256 ${actual}, not the pinned ${expected}; it was not unpacked or run`,
        fix,
      );
    }
    await tc.cacheFile(archive, file, name, version);
    request.log(`${name} ${version} installed (sha256 ${actual})`);
  };

  try {
    const failures: string[] = [];
    let installed = false;
    for (const [index, source] of request.releasesUrls.entries()) {
      try {
        await installFrom(source);
        installed = true;
        break;
      } catch (error) {
        if (!(error instanceof DownloadFailure)) throw error;
        failures.push(error.message);
        const next = request.releasesUrls[index + 1];
        if (next) request.log(`cannot download from ${source} (${error.message}); trying ${next}`);
      }
    }
    if (!installed)
      throw new PhaseError(
        'install',
        `cannot download ${name} ${version}: ${failures.join('; ')}`,
        `set tools-mirror to a host serving <owner>/<repo>/releases/download/… (behind a proxy: HTTPS_PROXY), check ${name}-version, or install ${name} in an earlier step and give its path (input ${name})`,
      );
    const dir = await tc.extractTar(archive, join(work, 'unpacked'));
    await rm(archive, { force: true });
    return { path: join(dir, name), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
