// sbom-and-sign against the cosign CLI, on fresh digests, measured in one run, interleaved ABBA, with
// each side a process as a workflow step is (bundled action on Node 24; cosign 3, offline, no tlog):
//   signature:          sbom-and-sign (signing only)          vs  cosign sign --key
//   SBOM + attestation: sbom-and-sign (SBOM, sign, attest)    vs  syft, then cosign sign, then cosign attest
// Prints a table per comparison and writes JSON.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/sbom-and-sign.bench.ts [runs]   (or all: bash bench/run.sh)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { freshImage as pushImage } from '../test/support/registry-api.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 9);
const registry = process.env.DEPLOY_SUITE_REGISTRY;
const cosign = process.env.DEPLOY_SUITE_COSIGN;
const syft = process.env.DEPLOY_SUITE_SYFT;
if (!registry || !cosign || !syft) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const keyFile = join(repoRoot, 'test/fixtures/cosign/cosign.key');
const password = 'fixture-password';
const event = await loadEvent('push-default-branch');
const stamp = Date.now().toString(36);
const scratch = mkdtempSync(join(tmpdir(), 'bench-sign-'));
const repository = `bench/sign-${stamp}`;
const freshImage = (nonce: string) => pushImage(repository, nonce);
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args[0]} failed:\n${result.stderr}`);
  return (performance.now() - started) / 1000;
}

const cosignEnv = { ...process.env, COSIGN_PASSWORD: password };
const cosignSign = (image: string) =>
  timed(
    cosign!,
    ['sign', '--yes', '--key', keyFile, '--tlog-upload=false', '--use-signing-config=false', image],
    cosignEnv,
  );

/** What a workflow without the suite runs: syft for the SBOM, cosign to sign, cosign to attest it. */
function syftCosign(image: string): number {
  const sbom = join(scratch, 'baseline.cdx.json');
  const syftTime = timed(syft!, ['scan', `registry:${image}`, '--quiet', '-o', `cyclonedx-json=${sbom}`], {
    ...process.env,
    SYFT_CHECK_FOR_APP_UPDATE: 'false',
    SYFT_REGISTRY_INSECURE_USE_HTTP: 'true',
  });
  const attest = timed(
    cosign!,
    [
      'attest',
      '--yes',
      '--key',
      keyFile,
      '--tlog-upload=false',
      '--use-signing-config=false',
      '--type',
      'cyclonedx',
      '--predicate',
      sbom,
      image,
    ],
    cosignEnv,
  );
  return syftTime + cosignSign(image) + attest;
}

async function action(image: string, withSbom: boolean): Promise<number> {
  const inputs: Record<string, string> = withSbom
    ? { sbom: 'true', 'attest-sbom': 'cyclonedx', syft: syft! }
    : { sbom: 'false', 'attest-sbom': 'none' };
  const result = await runAction(
    'sbom-and-sign',
    {
      image,
      'cosign-private-key': readFileSync(keyFile, 'utf8'),
      'cosign-password': password,
      scan: 'false',
      ...inputs,
    },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`sbom-and-sign failed:\n${result.log.slice(-2000)}`);
  return result.seconds;
}

interface Comparison {
  name: string;
  baselineName: string;
  runs: number;
  baselineMedianSeconds: number;
  oursMedianSeconds: number;
  ratio: number;
  baseline: number[];
  ours: number[];
}

async function compare(
  name: string,
  baselineName: string,
  count: number,
  baseline: (image: string) => number,
  ours: (image: string) => Promise<number>,
): Promise<Comparison> {
  // Warm-up: page cache for the binaries, the first registry connection.
  baseline(await freshImage(`${stamp}-${name}-warm-b`));
  await ours(await freshImage(`${stamp}-${name}-warm-o`));
  const b: number[] = [];
  const o: number[] = [];
  console.log(`\n${name}\nrun   ${baselineName.padStart(32)} (s)   sbom-and-sign (s)   ratio`);
  for (let i = 0; i < count; i++) {
    const [forBaseline, forOurs] = [
      await freshImage(`${stamp}-${name}-${i}-b`),
      await freshImage(`${stamp}-${name}-${i}-o`),
    ];
    // ABBA order: a drift in the machine's speed weighs on both sides alike.
    if (i % 2 === 0) {
      b.push(baseline(forBaseline));
      o.push(await ours(forOurs));
    } else {
      o.push(await ours(forOurs));
      b.push(baseline(forBaseline));
    }
    console.log(
      `${String(i + 1).padEnd(5)} ${b[i]!.toFixed(3).padStart(36)}   ${o[i]!.toFixed(3).padStart(17)}   ${(o[i]! / b[i]!).toFixed(3)}`,
    );
  }
  const result = {
    name,
    baselineName,
    runs: count,
    baselineMedianSeconds: Number(median(b).toFixed(3)),
    oursMedianSeconds: Number(median(o).toFixed(3)),
    ratio: Number((median(o) / median(b)).toFixed(3)),
    baseline: b,
    ours: o,
  };
  console.log(
    `median ${result.baselineMedianSeconds.toFixed(3).padStart(35)}   ${result.oursMedianSeconds.toFixed(3).padStart(17)}   ${result.ratio.toFixed(3)}`,
  );
  return result;
}

const comparisons = [
  await compare('signature', 'cosign sign', runs, cosignSign, (image) => action(image, false)),
  await compare(
    'sbom+signature+attestation',
    'syft + cosign sign + cosign attest',
    Math.max(3, Math.ceil(runs / 2)),
    syftCosign,
    (image) => action(image, true),
  ),
];
const result = {
  benchmark: 'sbom-and-sign vs cosign (and syft)',
  goal: 'ratio <= 1.0',
  node: process.version,
  comparisons,
};
console.log('\nsummary');
for (const c of comparisons)
  console.log(
    `  ${c.name.padEnd(28)} ours ${c.oursMedianSeconds.toFixed(3)} s, ${c.baselineName} ${c.baselineMedianSeconds.toFixed(3)} s, ratio ${c.ratio.toFixed(3)}`,
  );
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/sbom-and-sign.json'), `${JSON.stringify(result, null, 2)}\n`);
