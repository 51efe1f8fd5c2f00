/**
 * A check run as Argo Rollouts runs an analysis metric: `count` measurements, `intervalMs` apart; it
 * fails as soon as more than `failureLimit` measurements failed, and passes when all were taken.
 */
export interface CheckSchedule {
  count: number;
  intervalMs: number;
  failureLimit: number;
}

export type Verdict = 'passed' | 'failed' | 'inconclusive';

export interface CheckOutcome<M extends { ok: boolean; inconclusive?: boolean }> {
  passed: boolean;
  verdict: Verdict;
  measurements: M[];
  failures: number;
  inconclusive: number;
}

export async function runCheck<M extends { ok: boolean; inconclusive?: boolean }>(
  schedule: CheckSchedule,
  measure: () => Promise<M>,
  options: {
    onMeasurement?: (m: M, index: number) => void;
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<CheckOutcome<M>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const measurements: M[] = [];
  let failures = 0;
  let inconclusive = 0;
  const outcome = (verdict: Verdict) => ({
    passed: verdict === 'passed',
    verdict,
    measurements,
    failures,
    inconclusive,
  });
  for (let i = 0; i < schedule.count && !options.signal?.aborted; i++) {
    if (i > 0) await sleep(schedule.intervalMs);
    const m = await measure();
    measurements.push(m);
    options.onMeasurement?.(m, i);
    if (m.inconclusive) inconclusive++;
    else if (!m.ok) failures++;
    if (failures > schedule.failureLimit) return outcome('failed');
  }
  if (measurements.length < schedule.count) return outcome('inconclusive');
  return outcome(inconclusive > 0 ? 'inconclusive' : 'passed');
}
