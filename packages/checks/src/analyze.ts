import { runCheck, type CheckOutcome, type CheckSchedule, type Verdict } from './analysis.js';
import { probeOnce, type HttpProbe, type Measurement } from './http-probe.js';
import { judgeMetric, type MetricCheck, type MetricSource } from './metric-check.js';

export interface AnalysisPlan {
  http?: { probe: HttpProbe; schedule: CheckSchedule };
  metrics?: {
    source: MetricSource;
    checks: MetricCheck[];
    schedule: CheckSchedule;
    timeoutMs: number;
  };
}

export interface CheckReport {
  name: string;
  /** What was measured: the URL, or the query with its limit. */
  what: string;
  /** Who measured a metric check (Prometheus, Datadog, …); absent for the HTTP check. */
  provider?: string;
  outcome: CheckOutcome<Measurement>;
}

export interface AnalysisReport {
  verdict: Verdict;
  checks: CheckReport[];
  startedAt: string;
  endedAt: string;
}

/** Pure: the release's verdict from its checks — any failed fails it; else any inconclusive makes it so. */
export function overallVerdict(outcomes: { verdict: Verdict }[]): Verdict {
  if (outcomes.some((o) => o.verdict === 'failed')) return 'failed';
  if (outcomes.some((o) => o.verdict === 'inconclusive')) return 'inconclusive';
  return 'passed';
}

/**
 * Runs every check side by side, each on its schedule. A failed check stops the others (the release is
 * failed already: waiting would only delay the rollback).
 */
export async function analyze(plan: AnalysisPlan, log: (message: string) => void): Promise<AnalysisReport> {
  const startedAt = new Date().toISOString();
  const stop = new AbortController();
  const run = async (
    name: string,
    what: string,
    schedule: CheckSchedule,
    measure: () => Promise<Measurement>,
    provider?: string,
  ): Promise<CheckReport> => {
    const outcome = await runCheck(schedule, measure, {
      signal: stop.signal,
      onMeasurement: (m, i, awaiting) =>
        log(
          awaiting
            ? `${name} waiting for data (${i + 1}/${schedule.count}, not counted): ${m.detail}; the colour's series appear once it has served and been scraped`
            : `${name} ${i + 1}/${schedule.count}: ${m.inconclusive ? 'inconclusive' : m.ok ? 'ok' : 'FAILED'}, ${m.detail}`,
        ),
    });
    if (outcome.verdict === 'failed') stop.abort();
    return { name, what, outcome, ...(provider ? { provider } : {}) };
  };
  const runs: Promise<CheckReport>[] = [];
  if (plan.http) {
    const { probe, schedule } = plan.http;
    runs.push(run('http', probe.url, schedule, () => probeOnce(probe)));
  }
  if (plan.metrics) {
    const { source, schedule, timeoutMs } = plan.metrics;
    for (const check of plan.metrics.checks) {
      runs.push(
        run(
          check.name,
          `${check.query} ${check.comparison} ${check.limit}`,
          schedule,
          async () => {
            const started = performance.now();
            const result = await source.query(check.query, { timeoutMs });
            return judgeMetric(check, result, performance.now() - started, source.provider);
          },
          source.provider,
        ),
      );
    }
  }
  const checks = await Promise.all(runs);
  return {
    verdict: overallVerdict(checks.map((c) => c.outcome)),
    checks,
    startedAt,
    endedAt: new Date().toISOString(),
  };
}
