import { describe, expect, it } from '@jest/globals';
import { PhaseError, requireRunner } from '../src/index.js';

const linuxOnly = {
  platforms: ['linux'] as NodeJS.Platform[],
  arches: ['x64', 'arm64'],
  because: 'it drives docker buildx',
};

describe('requireRunner', () => {
  it.each([
    ['linux', 'x64'],
    ['linux', 'arm64'],
  ] as const)('serves %s %s', (platform, arch) => {
    expect(() => requireRunner('build-image', linuxOnly, platform, arch)).not.toThrow();
  });

  it.each([
    ['win32', 'x64', /cannot run on this runner \(Windows x64\): it drives docker buildx, for Linux on x64 or arm64/],
    ['darwin', 'arm64', /\(macOS arm64\)/],
    ['linux', 'ppc64', /\(Linux ppc64\)/],
  ] as const)('refuses %s %s up front, with the runs-on that works', (platform, arch, message) => {
    let error: unknown;
    try {
      requireRunner('build-image', linuxOnly, platform, arch);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PhaseError);
    expect((error as Error).message).toMatch(message);
    expect((error as PhaseError).fix).toMatch(/runs-on: ubuntu-latest, or ubuntu-24.04-arm/);
  });
});
