// The release archive each runner architecture gets: the names syft and trivy publish, never the x64
// archive on an arm64 runner.
import { describe, expect, it } from '@jest/globals';
import { releaseArchive } from '../src/tool-install.js';

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
