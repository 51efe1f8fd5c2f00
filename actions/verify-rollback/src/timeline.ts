import type { AnalysisReport } from '@deploy-suite/checks';
import type { RollbackResult } from '@deploy-suite/kube';

const clock = (iso: string | number) => new Date(iso).toISOString().slice(11, 19);

/**
 * The release as a Mermaid Gantt chart (GitHub renders it in job summaries): each check's measurements
 * over time, and the rollback when there was one.
 */
export function timeline(
  analysis: AnalysisReport,
  result: RollbackResult | undefined,
  startedAt: number,
  switchedLiveAt?: string,
): string {
  const lines = ['```mermaid', 'gantt', '  title Release analysis', '  dateFormat HH:mm:ss', '  axisFormat %H:%M:%S'];
  // When the release analysed went live (its deploy's switch, from the cluster's history).
  if (switchedLiveAt) lines.push('  section deploy', `  switched live :milestone, ${clock(switchedLiveAt)}, 0s`);
  for (const check of analysis.checks) {
    lines.push(`  section ${check.name.replace(/[:#]/g, ' ')}`);
    const { awaited } = check.outcome;
    check.outcome.measurements.forEach((m, i) => {
      const tag = m.inconclusive ? 'active' : m.ok ? 'done' : 'crit';
      const end = new Date(Date.parse(m.at) + Math.max(1000, m.ms)).toISOString();
      // The first `awaited` waited for the colour's first data and were not counted.
      const label =
        i < awaited
          ? `no data yet ${i + 1}`
          : `${m.ok ? 'ok' : m.inconclusive ? 'inconclusive' : 'failed'} ${i - awaited + 1}`;
      lines.push(`  ${label} :${tag}, ${clock(m.at)}, ${clock(end)}`);
    });
  }
  if (result && !result.noop && result.switchedAt) {
    lines.push(
      '  section rollback',
      `  switched back to ${result.liveColour} :milestone, ${clock(result.switchedAt)}, 0s`,
    );
  }
  lines.push(`  section action`, `  started :milestone, ${clock(startedAt)}, 0s`, '```');
  return lines.join('\n');
}
