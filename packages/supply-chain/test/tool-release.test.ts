// The release archive each runner architecture gets: the names syft and trivy publish, never the x64
// archive on an arm64 runner.
import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_RELEASES,
  checksumFor,
  describePin,
  releaseArchive,
  releaseSources,
  resolveToolRelease,
} from '../src/tool-release.js';

describe('releaseArchive', () => {
  it.each([
    ['syft', 'x64', 'https://github.com/anchore/syft/releases/download/v1.33.0/syft_1.33.0_linux_amd64.tar.gz'],
    ['syft', 'arm64', 'https://github.com/anchore/syft/releases/download/v1.33.0/syft_1.33.0_linux_arm64.tar.gz'],
    ['trivy', 'x64', 'https://github.com/aquasecurity/trivy/releases/download/v1.33.0/trivy_1.33.0_Linux-64bit.tar.gz'],
    [
      'trivy',
      'arm64',
      'https://github.com/aquasecurity/trivy/releases/download/v1.33.0/trivy_1.33.0_Linux-ARM64.tar.gz',
    ],
  ] as const)('%s on %s', (name, arch, url) => {
    expect(releaseArchive(name, 'v1.33.0', 'https://github.com/', arch).url).toBe(url);
  });

  it('an architecture the projects do not publish is a clear error', () => {
    expect(() => releaseArchive('trivy', '0.60.0', 'https://github.com', 's390x')).toThrow(
      /trivy publishes Linux releases for x64 and arm64, not s390x/,
    );
  });
});

describe('resolveToolRelease', () => {
  const sha = 'ab'.repeat(32);
  it("no version and no SHA-256: the action's default release and the pin it carries for this architecture", () => {
    expect(resolveToolRelease('syft', '', '', 'x64')).toEqual({
      name: 'syft',
      version: DEFAULT_RELEASES.syft.version,
      pin: { sha256: DEFAULT_RELEASES.syft.sha256.x64, from: 'action' },
    });
    expect(resolveToolRelease('trivy', '', '', 'arm64').pin).toEqual({
      sha256: DEFAULT_RELEASES.trivy.sha256.arm64,
      from: 'action',
    });
  });
  it("the default version named (with or without v) keeps the action's pin", () => {
    expect(resolveToolRelease('trivy', `v${DEFAULT_RELEASES.trivy.version}`, '', 'x64')).toMatchObject({
      version: DEFAULT_RELEASES.trivy.version,
      pin: { from: 'action' },
    });
  });
  it('a SHA-256 given is the pin, for any version (lower-cased)', () => {
    expect(resolveToolRelease('syft', '1.0.0', sha.toUpperCase(), 'x64').pin).toEqual({ sha256: sha, from: 'input' });
    expect(resolveToolRelease('syft', DEFAULT_RELEASES.syft.version, sha, 'x64').pin).toEqual({
      sha256: sha,
      from: 'input',
    });
  });
  it("another version without a SHA-256 is checked against its release's checksums file", () => {
    expect(resolveToolRelease('syft', 'v1.60.0', '', 'x64')).toEqual({
      name: 'syft',
      version: '1.60.0',
      pin: { checksumsFile: 'syft_1.60.0_checksums.txt' },
    });
    expect(resolveToolRelease('trivy', '0.80.1', '', 'arm64').pin).toEqual({
      checksumsFile: 'trivy_0.80.1_checksums.txt',
    });
  });
  it('the default on an architecture the action carries no pin for falls back to the checksums file', () => {
    expect(resolveToolRelease('syft', '', '', 'ppc64').pin).toEqual({
      checksumsFile: `syft_${DEFAULT_RELEASES.syft.version}_checksums.txt`,
    });
  });
  it('every carried pin is a SHA-256 for x64 and arm64', () => {
    for (const release of Object.values(DEFAULT_RELEASES)) {
      expect(Object.keys(release.sha256).sort()).toEqual(['arm64', 'x64']);
      for (const value of Object.values(release.sha256)) expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(release.version).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
    }
  });
});

describe('checksumFor', () => {
  const listing = [
    `${'1'.repeat(64)}  syft_1.60.0_darwin_amd64.tar.gz`,
    `${'A'.repeat(64)}  syft_1.60.0_linux_amd64.tar.gz`,
    `${'3'.repeat(64)} *syft_1.60.0_linux_arm64.tar.gz`,
    'not a line',
    '',
  ].join('\n');
  it('finds the line of the file, binary-mode star or not, lower-cased', () => {
    expect(checksumFor(listing, 'syft_1.60.0_linux_amd64.tar.gz')).toBe('a'.repeat(64));
    expect(checksumFor(listing, 'syft_1.60.0_linux_arm64.tar.gz')).toBe('3'.repeat(64));
  });
  it('a file it does not list, or a name that only starts the same, is undefined', () => {
    expect(checksumFor(listing, 'syft_1.60.0_linux_s390x.tar.gz')).toBeUndefined();
    expect(checksumFor(listing, 'syft_1.60.0_linux_amd64.tar')).toBeUndefined();
    expect(checksumFor(`${'1'.repeat(63)}  x.tar.gz`, 'x.tar.gz')).toBeUndefined();
  });
});

describe('releaseSources', () => {
  it('tools-mirror given: that host alone, without a trailing slash', () => {
    expect(releaseSources('https://mirror.example/releases/', 'https://ghe.example')).toEqual([
      'https://mirror.example/releases',
    ]);
  });
  it('otherwise the workflow’s GitHub server first, then github.com', () => {
    expect(releaseSources('', 'https://ghe.example/')).toEqual(['https://ghe.example', 'https://github.com']);
  });
  it('github.com once when the workflow runs there, or when the server URL is missing or not a URL', () => {
    expect(releaseSources('', 'https://github.com')).toEqual(['https://github.com']);
    expect(releaseSources('', undefined)).toEqual(['https://github.com']);
    expect(releaseSources('', 'ghe.example')).toEqual(['https://github.com']);
  });
});

describe('describePin', () => {
  it('says what each check proves', () => {
    const file = 'syft_1.52.0_linux_amd64.tar.gz';
    expect(describePin(resolveToolRelease('syft', '', '', 'x64'), file)).toMatch(
      /checked against the SHA-256 this action carries/,
    );
    expect(describePin(resolveToolRelease('syft', '1.0.0', 'a'.repeat(64), 'x64'), file)).toMatch(
      /checked against syft-sha256/,
    );
    expect(describePin(resolveToolRelease('syft', '1.60.0', '', 'x64'), file)).toMatch(
      /release's own syft_1\.60\.0_checksums\.txt from the same host: that refuses a corrupted or truncated download, not a release altered where it is served; set syft-sha256/,
    );
  });
});
