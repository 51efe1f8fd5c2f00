// What the deploy benchmarks share: kubectl timed with its API requests counted, a namespace per measured
// flip, and the ABBA comparison of ours against the kubectl baseline with its table and results file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/support/action-runner.ts';
import { median } from './median.ts';

export interface Measure {
  seconds: number;
  requests: number;
}

const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG;
if (!kubeconfigPath) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');

/** kubectl against the platform, timed, its API requests counted from its -v=6 log. */
export function kubectl(args: string[], input?: string): Measure & { stdout: string } {
  const started = performance.now();
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, '-v=6', ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  const requests = result.stderr
    .split('\n')
    .filter(
      (l) => /"?(GET|POST|PUT|PATCH|DELETE)"? .*https:\/\/127\.0\.0\.1/.test(l) && /\b[1-5][0-9]{2}\b/.test(l),
    ).length;
  return { seconds: (performance.now() - started) / 1000, requests, stdout: result.stdout };
}

/** The sum of steps, as one measure. */
export const total = (steps: Measure[]): Measure => ({
  seconds: steps.reduce((s, x) => s + x.seconds, 0),
  requests: steps.reduce((s, x) => s + x.requests, 0),
});

// Each measured flip runs in a namespace of its own, set up with one colour live and deleted (waited for)
// afterwards: the thousands of pods a flip replaces are not still being deleted while the other side is
// measured (in one shared namespace that carry-over moved results by ±40 %).
export function freshNamespace(name: string): string {
  kubectl(['create', 'namespace', name]);
  return name;
}
export const dropNamespace = (ns: string) => kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=600s']);

export interface FlipResult {
  replicas: number;
  runs: number;
  kubectlMedianSeconds: number;
  oursMedianSeconds: number;
  ratio: number;
  kubectlRequests: number;
  oursRequests: number;
}

/**
 * Ours against kubectl at each replica count, interleaved ABBA (a drift in the machine's speed weighs on
 * both sides alike), each run logged; the medians. At 1,000 replicas a run pair takes minutes and the
 * rollout alone varies by ±1.5 s run to run: half the runs, but four at least.
 */
export async function compareFlips(
  runs: number,
  replicaCounts: number[],
  kubectlRun: (replicas: number) => Measure,
  oursRun: (replicas: number) => Promise<Measure>,
): Promise<FlipResult[]> {
  const results: FlipResult[] = [];
  for (const replicas of replicaCounts) {
    const base: Measure[] = [];
    const ours: Measure[] = [];
    const count = replicas >= 1000 ? Math.max(4, Math.ceil(runs / 2)) : runs;
    for (let i = 0; i < count; i++) {
      if (i % 2 === 0) {
        base.push(kubectlRun(replicas));
        ours.push(await oursRun(replicas));
      } else {
        ours.push(await oursRun(replicas));
        base.push(kubectlRun(replicas));
      }
      console.log(
        `replicas ${String(replicas).padStart(4)} run ${i + 1}: kubectl ${base.at(-1)!.seconds.toFixed(3)} s / ${base.at(-1)!.requests} requests   bluegreen-deploy ${ours.at(-1)!.seconds.toFixed(3)} s / ${ours.at(-1)!.requests} requests`,
      );
    }
    const baseSeconds = median(base.map((b) => b.seconds));
    const oursSeconds = median(ours.map((o) => o.seconds));
    results.push({
      replicas,
      runs: count,
      kubectlMedianSeconds: Number(baseSeconds.toFixed(3)),
      oursMedianSeconds: Number(oursSeconds.toFixed(3)),
      ratio: Number((oursSeconds / baseSeconds).toFixed(3)),
      kubectlRequests: median(base.map((b) => b.requests)),
      oursRequests: median(ours.map((o) => o.requests)),
    });
  }
  return results;
}

/** The table, what ours does besides, and bench/results/<file> (report.ts reads it). */
export function reportFlips(results: FlipResult[], oursAlso: string, file: string, benchmark: string): void {
  console.log('\nreplicas   kubectl (s)   bluegreen-deploy (s)   ratio   requests kubectl / ours');
  for (const r of results)
    console.log(
      `${String(r.replicas).padStart(8)}   ${String(r.kubectlMedianSeconds).padStart(11)}   ${String(r.oursMedianSeconds).padStart(20)}   ${String(r.ratio).padStart(5)}   ${r.kubectlRequests} / ${r.oursRequests}`,
    );
  console.log(`(ours also ${oursAlso}; goal: ratio <= 1.0, requests flat in replicas)`);
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench/results', file), `${JSON.stringify({ benchmark, results }, null, 2)}\n`);
}
