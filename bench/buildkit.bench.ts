// build-image on the current BuildKit (buildx's remote driver, v0.34), measured in one run against what
// users would otherwise run, interleaved (ABBA), each run a new build-arg so the RUN step really builds:
//  1. build-image ÷ raw `docker buildx build --push` on the same builder, one platform, default provenance;
//  2. the per-arch matrix (two push-by-digest jobs side by side, then the merge) ÷ one multi-platform
//     QEMU build of the same context. Here both arm64 builds run under QEMU (this machine has no arm64
//     runner); the amd64-only build time is what a native arm64 job would take, and the table says so.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/buildkit.bench.ts [runs]   (or all: bash bench/run.sh)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 5);
const registry = process.env.DEPLOY_SUITE_REGISTRY;
const builder = process.env.DEPLOY_SUITE_BUILDKIT_BUILDER;
const base = process.env.DEPLOY_SUITE_MULTI_BASE_IMAGE;
if (!registry || !builder || !base) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const context = 'bench/fixtures/cpu-app';
const event = await loadEvent('push-feature-branch');
const scratch = mkdtempSync(join(tmpdir(), 'bench-buildkit-'));
const stamp = Date.now().toString(36);
// The RUN step's work: about a second natively, what a small compile costs.
const work = process.env.BENCH_WORK ?? '1500000';
const buildArgs = (version: string) => `BASE=${base}\nAPP_VERSION=${version}\nWORK=${work}`;

function raw(version: string, platforms: string): number {
  const image = `${registry}/bench/bk-raw`;
  const started = performance.now();
  const result = spawnSync(
    'docker',
    [
      'buildx',
      'build',
      '--builder',
      builder!,
      '--progress=plain',
      '--platform',
      platforms,
      '--metadata-file',
      join(scratch, 'raw.json'),
      '--output',
      // Two names in one CSV field: quoted, as buildx's --output reads it.
      `type=image,"name=${image}:feature-cart-v2,${image}:sha-8f3c2a1",push=true,registry.insecure=true`,
      '--build-arg',
      `BASE=${base}`,
      '--build-arg',
      `APP_VERSION=${version}`,
      '--build-arg',
      `WORK=${work}`,
      join(repoRoot, context),
    ],
    { encoding: 'utf8' },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`raw buildx failed:\n${result.stderr}`);
  return seconds;
}

async function ours(version: string, inputs: Record<string, string>): Promise<{ seconds: number; digest: string }> {
  const result = await runAction(
    'build-image',
    { image: `${registry}/bench/bk-ours`, context, builder: builder!, 'build-args': buildArgs(version), ...inputs },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`build-image failed:\n${result.log.slice(-2000)}`);
  return { seconds: result.seconds, digest: result.outputs.digest ?? '' };
}

/** Two push-by-digest jobs side by side (a matrix), then the merge job; the wall time of the whole. */
async function matrix(version: string): Promise<{ seconds: number; amd64: number; arm64: number; merge: number }> {
  const started = performance.now();
  const [amd64, arm64] = await Promise.all(
    ['linux/amd64', 'linux/arm64'].map((platforms) => ours(version, { platforms, 'push-by-digest': 'true' })),
  );
  const merged = await runAction(
    'build-image',
    { image: `${registry}/bench/bk-ours`, digests: `${amd64!.digest}\n${arm64!.digest}` },
    event,
  );
  if (merged.exitCode !== 0) throw new Error(`merge failed:\n${merged.log.slice(-2000)}`);
  return {
    seconds: (performance.now() - started) / 1000,
    amd64: amd64!.seconds,
    arm64: arm64!.seconds,
    merge: merged.seconds,
  };
}

// Warm-up: base layers into each repository, the builder's cache of the base.
raw(`${stamp}-warm`, 'linux/amd64,linux/arm64');
await ours(`${stamp}-warm`, { platforms: 'linux/amd64,linux/arm64' });

const one = { raw: [] as number[], ours: [] as number[] };
const multi = {
  qemu: [] as number[],
  matrix: [] as number[],
  amd64: [] as number[],
  arm64: [] as number[],
  merge: [] as number[],
};
console.log('run   raw buildx (s)   build-image (s)   ratio   | one QEMU build (s)   matrix+merge (s)   ratio');
for (let i = 0; i < runs; i++) {
  let r: number, o: number, q: number, m: Awaited<ReturnType<typeof matrix>>;
  // ABBA: a drift in the machine's speed weighs on both sides alike.
  if (i % 2 === 0) {
    r = raw(`${stamp}-${i}-r`, 'linux/amd64');
    o = (await ours(`${stamp}-${i}-o`, { platforms: 'linux/amd64' })).seconds;
    q = raw(`${stamp}-${i}-q`, 'linux/amd64,linux/arm64');
    m = await matrix(`${stamp}-${i}-m`);
  } else {
    m = await matrix(`${stamp}-${i}-m`);
    q = raw(`${stamp}-${i}-q`, 'linux/amd64,linux/arm64');
    o = (await ours(`${stamp}-${i}-o`, { platforms: 'linux/amd64' })).seconds;
    r = raw(`${stamp}-${i}-r`, 'linux/amd64');
  }
  one.raw.push(r);
  one.ours.push(o);
  multi.qemu.push(q);
  multi.matrix.push(m.seconds);
  multi.amd64.push(m.amd64);
  multi.arm64.push(m.arm64);
  multi.merge.push(m.merge);
  console.log(
    `${String(i + 1).padEnd(5)} ${r.toFixed(3).padStart(14)}   ${o.toFixed(3).padStart(15)}   ${(o / r).toFixed(3)}   | ${q.toFixed(3).padStart(18)}   ${m.seconds.toFixed(3).padStart(16)}   ${(m.seconds / q).toFixed(3)}`,
  );
}
const med = (xs: number[]) => Number(median(xs).toFixed(3));
// On native runners the arm64 job takes about what the amd64 job takes here: the matrix would be the
// slower of two native jobs, plus the merge.
const nativeEstimate = med(multi.amd64) + med(multi.merge);
const result = {
  benchmark: 'build-image on BuildKit v0.34 (remote driver)',
  runs,
  work: Number(work),
  onePlatform: {
    rawMedianSeconds: med(one.raw),
    oursMedianSeconds: med(one.ours),
    ratio: Number((median(one.ours) / median(one.raw)).toFixed(3)),
    goal: '<= 1.05',
    raw: one.raw,
    ours: one.ours,
  },
  multiPlatform: {
    qemuMedianSeconds: med(multi.qemu),
    matrixMedianSeconds: med(multi.matrix),
    ratio: Number((median(multi.matrix) / median(multi.qemu)).toFixed(3)),
    amd64JobMedianSeconds: med(multi.amd64),
    arm64JobUnderQemuMedianSeconds: med(multi.arm64),
    mergeMedianSeconds: med(multi.merge),
    nativeRunnersEstimateSeconds: Number(nativeEstimate.toFixed(3)),
    nativeRatioEstimate: Number((nativeEstimate / median(multi.qemu)).toFixed(3)),
    ...multi,
  },
  node: process.version,
};
console.log(
  `median ${result.onePlatform.rawMedianSeconds.toFixed(3).padStart(13)}   ${result.onePlatform.oursMedianSeconds.toFixed(3).padStart(15)}   ${result.onePlatform.ratio.toFixed(3)}   | ${result.multiPlatform.qemuMedianSeconds.toFixed(3).padStart(18)}   ${result.multiPlatform.matrixMedianSeconds.toFixed(3).padStart(16)}   ${result.multiPlatform.ratio.toFixed(3)}`,
);
console.log(
  `matrix jobs: amd64 ${result.multiPlatform.amd64JobMedianSeconds} s, arm64 under QEMU ${result.multiPlatform.arm64JobUnderQemuMedianSeconds} s, merge ${result.multiPlatform.mergeMedianSeconds} s; on native arm64 runners ≈ ${result.multiPlatform.nativeRunnersEstimateSeconds} s (${result.multiPlatform.nativeRatioEstimate} of the QEMU build)`,
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/buildkit.json'), `${JSON.stringify(result, null, 2)}\n`);
