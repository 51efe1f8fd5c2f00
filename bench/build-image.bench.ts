// build-image against raw `docker buildx build --push` of the same context, same tags, measured in one
// run, interleaved (raw, ours, ours, raw…). Each run changes a build-arg so the RUN step really builds
// and a new image is pushed, as in a CI run after a commit. Prints a table and writes JSON.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/build-image.bench.ts [runs]   (or all: bash bench/run.sh)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 9);
const registry = process.env.DEPLOY_SUITE_REGISTRY;
if (!registry) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const context = join(repoRoot, 'test/fixtures/app');
const event = await loadEvent('push-feature-branch');
const scratch = mkdtempSync(join(tmpdir(), 'bench-build-'));
const stamp = Date.now().toString(36);

function raw(version: string): number {
  const image = `${registry}/bench/raw`;
  const started = performance.now();
  const result = spawnSync(
    'docker',
    [
      'buildx',
      'build',
      '--progress=plain',
      '--push',
      '--metadata-file',
      join(scratch, 'raw.json'),
      '--tag',
      `${image}:feature-cart-v2`,
      '--tag',
      `${image}:sha-8f3c2a1`,
      '--build-arg',
      `APP_VERSION=${version}`,
      context,
    ],
    { encoding: 'utf8' },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`raw buildx failed:\n${result.stderr}`);
  return seconds;
}

async function ours(version: string): Promise<number> {
  const result = await runAction(
    'build-image',
    { image: `${registry}/bench/ours`, context: 'test/fixtures/app', 'build-args': `APP_VERSION=${version}` },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`build-image failed:\n${result.log.slice(-2000)}`);
  return result.seconds;
}

// Warm-up: the first push of each repository uploads the base layer; not what a CI run pays each time.
raw(`${stamp}-warm`);
await ours(`${stamp}-warm`);

const rawTimes: number[] = [];
const ourTimes: number[] = [];
console.log('run   raw buildx (s)   build-image (s)   ratio');
for (let i = 0; i < runs; i++) {
  // ABBA order: a drift in the machine's speed during the run weighs on both sides alike.
  let r: number;
  let o: number;
  if (i % 2 === 0) {
    r = raw(`${stamp}-${i}-raw`);
    o = await ours(`${stamp}-${i}-ours`);
  } else {
    o = await ours(`${stamp}-${i}-ours`);
    r = raw(`${stamp}-${i}-raw`);
  }
  rawTimes.push(r);
  ourTimes.push(o);
  console.log(
    `${String(i + 1).padEnd(5)} ${r.toFixed(3).padStart(14)}   ${o.toFixed(3).padStart(15)}   ${(o / r).toFixed(3)}`,
  );
}
const result = {
  benchmark: 'build-image vs raw docker buildx build --push',
  runs,
  rawMedianSeconds: Number(median(rawTimes).toFixed(3)),
  oursMedianSeconds: Number(median(ourTimes).toFixed(3)),
  ratio: Number((median(ourTimes) / median(rawTimes)).toFixed(3)),
  goal: '<= 1.05',
  raw: rawTimes,
  ours: ourTimes,
  node: process.version,
};
console.log(
  `median ${result.rawMedianSeconds.toFixed(3).padStart(13)}   ${result.oursMedianSeconds.toFixed(3).padStart(15)}   ${result.ratio.toFixed(3)}  (goal ${result.goal})`,
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/build-image.json'), `${JSON.stringify(result, null, 2)}\n`);
