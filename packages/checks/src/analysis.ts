/**
 * A check run as Argo Rollouts runs an analysis metric: `count` measurements, `intervalMs` apart; it
 * fails as soon as more than `failureLimit` measurements failed, and passes when all were taken.
 */
export interface CheckSchedule {
  count: number;
  intervalMs: number;
  failureLimit: number;
}

export interface CheckOutcome<M extends { ok: boolean }> {
  passed: boolean;
  measurements: M[];
  failures: number;
}

export async function runCheck<M extends { ok: boolean }>(
  schedule: CheckSchedule,
  measure: () => Promise<M>,
  options: { onMeasurement?: (m: M, index: number) => void; signal?: AbortSignal; sleep?: (ms: number) => Promise<void> } = {},
): Promise<CheckOutcome<M>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const measurements: M[] = [];
  let failures = 0;
  for (let i = 0; i < schedule.count && !options.signal?.aborted; i++) {
    if (i > 0) await sleep(schedule.intervalMs);
    const m = await measure();
    measurements.push(m);
    options.onMeasurement?.(m, i);
    if (!m.ok) failures++;
    if (failures > schedule.failureLimit) return { passed: false, measurements, failures };
  }
  return { passed: measurements.length === schedule.count, measurements, failures };
}
