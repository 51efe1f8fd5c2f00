// Which release of syft or trivy sbom-and-sign installs, where it is served and what its archive must hash
// to. Pure: the download and the check live in tool-install.ts.
import { PhaseError } from '@deploy-suite/action-kit';

export type ToolName = 'syft' | 'trivy';

/**
 * The releases installed when no path and no version is given, with the SHA-256 of each Linux archive as
 * the release's own checksums file lists it (syft_1.52.0_checksums.txt, trivy_0.74.0_checksums.txt),
 * copied into the action: a download that differs is refused, whoever serves it.
 */
export const DEFAULT_RELEASES: Record<ToolName, { version: string; sha256: Record<string, string> }> = {
  syft: {
    version: '1.52.0',
    sha256: {
      x64: 'caeedb81fb0491615f1ebd1761e4145d41ee86dd2cc7bf80669f9f5ad9d6133d',
      arm64: 'c46d5e4c28e12aa4c5becfaa343ef1c7f89045b6b895f2c21d471c62db09c706',
    },
  },
  trivy: {
    version: '0.74.0',
    sha256: {
      x64: '2ae6fe3ee734b7fdf11335663e18c75ea12dccc76062f09f164a3b0f8be4371a',
      arm64: 'b94ce1976bbf3c15b514b605ee88be7c6d94a29be2302847ff01cb794d47aad5',
    },
  },
};

/**
 * What the archive is checked against: a SHA-256 (the action's own pin, or the one given as an input),
 * or, for a version the action carries no pin for and no SHA-256 was given, the release's checksums file.
 */
export type ToolPin = { sha256: string; from: 'action' | 'input' } | { checksumsFile: string };

export interface ToolRelease {
  name: ToolName;
  /** Without the leading v. */
  version: string;
  pin: ToolPin;
}

/** The names each project gives its Linux archives, by Node's process.arch. */
const ARCHIVE_ARCH: Record<ToolName, Record<string, string>> = {
  syft: { x64: 'linux_amd64', arm64: 'linux_arm64' },
  trivy: { x64: 'Linux-64bit', arm64: 'Linux-ARM64' },
};

const PROJECT: Record<ToolName, string> = { syft: 'anchore/syft', trivy: 'aquasecurity/trivy' };

/**
 * The release to install from the inputs: none given is the action's default and its pin; a version with
 * a SHA-256 is the user's pin; the action's default version without one keeps the action's pin; any other
 * version is checked against its release's checksums file.
 */
export function resolveToolRelease(
  name: ToolName,
  versionInput: string,
  sha256Input: string,
  arch: string = process.arch,
): ToolRelease {
  const fallback = DEFAULT_RELEASES[name];
  const version = (versionInput || fallback.version).replace(/^v/, '');
  if (sha256Input) return { name, version, pin: { sha256: sha256Input.toLowerCase(), from: 'input' } };
  const carried = version === fallback.version ? fallback.sha256[arch] : undefined;
  if (carried) return { name, version, pin: { sha256: carried, from: 'action' } };
  return { name, version, pin: { checksumsFile: `${name}_${version}_checksums.txt` } };
}

/** The folder a release's files are served from, under a releases host (github.com or a mirror). */
export function releaseFolder(name: ToolName, version: string, releasesUrl: string): string {
  return `${releasesUrl.replace(/\/+$/, '')}/${PROJECT[name]}/releases/download/v${version.replace(/^v/, '')}`;
}

/** The archive of a tool's Linux release for this runner's architecture, at the path its project publishes it under. */
export function releaseArchive(
  name: ToolName,
  version: string,
  releasesUrl: string,
  arch: string = process.arch,
): { url: string; file: string } {
  const v = version.replace(/^v/, '');
  const suffix = ARCHIVE_ARCH[name][arch];
  if (!suffix)
    throw new PhaseError(
      'install',
      `${name} publishes Linux releases for x64 and arm64, not ${arch}`,
      `give the path of a ${name} binary built for this runner (input ${name})`,
    );
  const file = `${name}_${v}_${suffix}.tar.gz`;
  return { url: `${releaseFolder(name, v, releasesUrl)}/${file}`, file };
}

/**
 * The SHA-256 a checksums file (goreleaser's `<sha256>  <file>` lines, as syft and trivy publish) lists
 * for one file; undefined when it lists none.
 */
export function checksumFor(checksums: string, file: string): string | undefined {
  for (const line of checksums.split('\n')) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (match && match[2] === file) return match[1]!.toLowerCase();
  }
  return undefined;
}

/**
 * Where releases are downloaded from, in order: the tools-mirror input alone when given; otherwise the
 * GitHub server the workflow runs on (GITHUB_SERVER_URL: a GitHub Enterprise Server that mirrors the
 * tools' repositories serves them there), then github.com.
 */
export function releaseSources(mirrorInput: string, serverUrl: string | undefined): string[] {
  if (mirrorInput) return [mirrorInput.replace(/\/+$/, '')];
  const sources = [serverUrl, 'https://github.com']
    .filter((url): url is string => !!url && /^https?:\/\/\S+$/.test(url))
    .map((url) => url.replace(/\/+$/, ''));
  return [...new Set(sources)];
}

/** One line for the log: what the archive is checked against, and what that check does and does not prove. */
export function describePin(release: ToolRelease, file: string): string {
  const pin = release.pin;
  if ('checksumsFile' in pin)
    return (
      `${release.name} ${release.version}: no ${release.name}-sha256 was given and this action carries no pin for this version, ` +
      `so ${file} is checked against the release's own ${pin.checksumsFile} from the same host: that refuses a corrupted ` +
      `or truncated download, not a release altered where it is served; set ${release.name}-sha256 to pin it`
    );
  if (pin.from === 'action')
    return (
      `${release.name} ${release.version}: ${file} is checked against the SHA-256 this action carries ` +
      `(copied from the release's checksums file when the action was released): anything else served is refused`
    );
  return `${release.name} ${release.version}: ${file} is checked against ${release.name}-sha256`;
}
