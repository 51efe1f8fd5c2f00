/**
 * A check run as Argo Rollouts runs an analysis metric: `count` measurements, `intervalMs` apart; it
 * fails as soon as more than `failureLimit` measurements failed, and passes when all were taken.
 * Measurements that await data (a colour just switched live has no series until it has served and been
 * scraped) before the first one with data are not counted, `count` of them at most: a good release is
 * not inconclusive for being measured too soon, and a colour that never shows data still is.
 */
export interface CheckSchedule {
  count: number;
  intervalMs: number;
  failureLimit: number;
}

export type Verdict = 'passed' | 'failed' | 'inconclusive';

export interface Measured {
  ok: boolean;
  inconclusive?: boolean;
  /** No data yet (not an unreachable server): counted only once data has been seen. */
  awaitingData?: boolean;
}

export interface CheckOutcome<M extends Measured> {
  passed: boolean;
  verdict: Verdict;
  measurements: M[];
  failures: number;
  inconclusive: number;
  /** Leading measurements that awaited data and were not counted. */
  awaited: number;
}

export async function runCheck<M extends Measured>(
  schedule: CheckSchedule,
  measure: () => Promise<M>,
  options: {
    /** `index`: of the counted measurements, or of those awaiting data when `awaiting` (uncounted). */
    onMeasurement?: (m: M, index: number, awaiting: boolean) => void;
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<CheckOutcome<M>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const measurements: M[] = [];
  let failures = 0;
  let inconclusive = 0;
  let awaited = 0;
  const outcome = (verdict: Verdict) => ({
    passed: verdict === 'passed',
    verdict,
    measurements,
    failures,
    inconclusive,
    awaited,
  });
  let counted = 0;
  while (counted < schedule.count && !options.signal?.aborted) {
    if (measurements.length > 0) await sleep(schedule.intervalMs);
    const m = await measure();
    const awaiting = Boolean(m.awaitingData) && counted === 0 && awaited < schedule.count;
    measurements.push(m);
    options.onMeasurement?.(m, awaiting ? awaited : counted, awaiting);
    if (awaiting) {
      awaited++;
      continue;
    }
    counted++;
    if (m.inconclusive) inconclusive++;
    else if (!m.ok) failures++;
    if (failures > schedule.failureLimit) return outcome('failed');
  }
  if (counted < schedule.count) return outcome('inconclusive');
  return outcome(inconclusive > 0 ? 'inconclusive' : 'passed');
}
