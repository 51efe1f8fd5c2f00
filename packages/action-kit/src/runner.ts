import { PhaseError } from './errors.js';

export interface RunnerNeeds {
  /** Node's process.platform values the action can serve. */
  platforms: NodeJS.Platform[];
  /** Node's process.arch values. */
  arches: string[];
  /** Why, for the message: what the action runs that ties it to these. */
  because: string;
}

const NAMES: Partial<Record<NodeJS.Platform, string>> = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };

/**
 * Refuses, at the start, a runner the action cannot serve (rather than failing late at a spawn): the
 * runner's OS and architecture, named as GitHub names them, with the runs-on that works.
 */
export function requireRunner(
  action: string,
  needs: RunnerNeeds,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): void {
  if (needs.platforms.includes(platform) && needs.arches.includes(arch)) return;
  const runner = `${NAMES[platform] ?? platform} ${arch}`;
  throw new PhaseError(
    'runner',
    `${action} cannot run on this runner (${runner}): ${needs.because}, for ${needs.platforms.map((p) => NAMES[p] ?? p).join('/')} on ${needs.arches.join(' or ')}`,
    'run this job on a Linux runner: runs-on: ubuntu-latest, or ubuntu-24.04-arm for arm64 (self-hosted: a Linux x64 or arm64 machine)',
  );
}
