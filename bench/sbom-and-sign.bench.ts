// Sign + attach: sbom-and-sign (bundled, run as the runner runs it; signing only: no SBOM, no scan)
// against `cosign sign --key` (cosign 3, offline: no transparency log) of a fresh digest each, measured in
// one run, interleaved ABBA. Both start a process, open the encrypted key (scrypt), sign, and push the
// bundle as a referrer with its tag index. Prints a table and writes JSON.
//   node bench/sbom-and-sign.bench.ts [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { freshImage as pushImage } from '../test/support/registry-api.ts';

const runs = Number(process.argv[2] ?? 9);
const registry = process.env.DEPLOY_SUITE_REGISTRY;
const cosign = process.env.DEPLOY_SUITE_COSIGN;
if (!registry || !cosign) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const keyFile = join(repoRoot, 'test/fixtures/cosign/cosign.key');
const password = 'fixture-password';
const event = await loadEvent('push-default-branch');
const stamp = Date.now().toString(36);
const repository = `bench/sign-${stamp}`;
const freshImage = (nonce: string) => pushImage(repository, nonce);
function viaCosign(image: string): number {
  const started = performance.now();
  const result = spawnSync(cosign!, ['sign', '--yes', '--key', keyFile, '--tlog-upload=false', '--use-signing-config=false', image], { encoding: 'utf8', env: { ...process.env, COSIGN_PASSWORD: password } });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`cosign sign failed:\n${result.stderr}`);
  return seconds;
}

async function viaAction(image: string): Promise<number> {
  const result = await runAction('sbom-and-sign', { image, 'cosign-private-key': readFileSync(keyFile, 'utf8'), 'cosign-password': password, sbom: 'false', 'attest-sbom': 'none', scan: 'false' }, event);
  if (result.exitCode !== 0) throw new Error(`sbom-and-sign failed:\n${result.log.slice(-2000)}`);
  return result.seconds;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

// Warm-up: page cache for both binaries and the first connection to the registry.
viaCosign(await freshImage(`${stamp}-warm-c`));
await viaAction(await freshImage(`${stamp}-warm-a`));

const cosignTimes: number[] = [];
const ourTimes: number[] = [];
console.log('run   cosign sign (s)   sbom-and-sign (s)   ratio');
for (let i = 0; i < runs; i++) {
  const [a, b] = [await freshImage(`${stamp}-${i}-c`), await freshImage(`${stamp}-${i}-a`)];
  let c: number;
  let o: number;
  if (i % 2 === 0) {
    c = viaCosign(a);
    o = await viaAction(b);
  } else {
    o = await viaAction(b);
    c = viaCosign(a);
  }
  cosignTimes.push(c);
  ourTimes.push(o);
  console.log(`${String(i + 1).padEnd(5)} ${c.toFixed(3).padStart(15)}   ${o.toFixed(3).padStart(17)}   ${(o / c).toFixed(3)}`);
}
const result = {
  benchmark: 'sbom-and-sign (sign + attach) vs cosign sign --key, offline',
  runs,
  cosignMedianSeconds: Number(median(cosignTimes).toFixed(3)),
  oursMedianSeconds: Number(median(ourTimes).toFixed(3)),
  ratio: Number((median(ourTimes) / median(cosignTimes)).toFixed(3)),
  goal: '<= 1.0',
  cosign: cosignTimes,
  ours: ourTimes,
  node: process.version,
};
console.log(`median ${result.cosignMedianSeconds.toFixed(3).padStart(14)}   ${result.oursMedianSeconds.toFixed(3).padStart(17)}   ${result.ratio.toFixed(3)}  (goal ${result.goal})`);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/sbom-and-sign.json'), `${JSON.stringify(result, null, 2)}\n`);
