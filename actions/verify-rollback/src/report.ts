// What a run tells: its outputs, and the job summary (verdict, measurements, the timeline, the KPIs).
import * as core from '@actions/core';
import { Phases, code, escapeHtml, writeSummary, type SummaryRow } from '@deploy-suite/action-kit';
import type { AnalysisReport } from '@deploy-suite/checks';
import {
  kpiChart,
  kpiRows,
  type HistoryEntry,
  type ReleaseKpis,
  type RollbackResult,
  type RollbackTarget,
} from '@deploy-suite/kube';
import type { VerifyRollbackInputs } from './inputs.js';
import { timeline } from './timeline.js';

// The process's start (Node's time origin, before the bundle even loads): the rollback time a user feels
// runs from here to the live selector switched back.
export const started = performance.timeOrigin;

export function rollbackSeconds(result: RollbackResult): string {
  return result.switchedAt ? ((result.switchedAt - started) / 1000).toFixed(3) : '0';
}

export function report(
  result: RollbackResult | undefined,
  verdict: string,
  analysis: AnalysisReport | undefined,
  read: { history: HistoryEntry[]; kpis: ReleaseKpis },
  live: { liveColour: string; liveDigest: string; revision: number },
): void {
  core.setOutput('verdict', verdict);
  core.setOutput('kpis', JSON.stringify(read.kpis));
  core.setOutput('history', JSON.stringify(read.history));
  core.setOutput('rolled-back', String(Boolean(result && !result.noop)));
  core.setOutput('live-colour', live.liveColour);
  core.setOutput('live-digest', live.liveDigest);
  core.setOutput('revision', String(live.revision));
  if (result) core.setOutput('rollback-seconds', rollbackSeconds(result));
  if (analysis)
    core.setOutput(
      'measurements',
      JSON.stringify(
        analysis.checks.map((c) => ({
          name: c.name,
          verdict: c.outcome.verdict,
          values: c.outcome.measurements.map((m) => m.detail),
        })),
      ),
    );
}

export async function summarize(
  inputs: VerifyRollbackInputs,
  phases: Phases,
  verdict: string,
  analysis: AnalysisReport | undefined,
  result: RollbackResult | undefined,
  target: RollbackTarget | undefined,
  read: { kpis: ReleaseKpis },
  wentLive?: string,
): Promise<void> {
  const rows: SummaryRow[] = [['App', `${escapeHtml(inputs.app)} in ${escapeHtml(inputs.namespace)}`]];
  if (analysis) rows.push(['Verdict', verdict === 'passed' ? 'passed: the release stays' : `<b>${verdict}</b>`]);
  if (result) {
    rows.push([
      'Rollback',
      result.noop
        ? `nothing to do: ${code(result.liveDigest)} was live`
        : `${target?.kind === 'previous' ? 'to the previous release' : `to ${target?.kind} ${target?.kind === 'revision' ? target.revision : ''}`}: ${code(result.liveDigest)} on ${result.liveColour} (${result.how}), revision ${result.revision}, live after ${rollbackSeconds(result)} s${result.hooks?.length ? `; post-rollback hooks: ${result.hooks.map((h) => `${code(h.name)} ${h.outcome}`).join(', ')}` : ''}`,
    ]);
  }
  rows.push(['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')]);
  await writeSummary(
    `verify-rollback: ${inputs.app} ${result && !result.noop ? 'rolled back' : verdict}`,
    rows,
    (s) => {
      if (analysis) {
        s.addHeading('Measurements', 4).addTable([
          [
            { data: 'Check', header: true },
            { data: 'Measured', header: true },
            { data: 'Values', header: true },
            { data: 'Verdict', header: true },
          ],
          ...analysis.checks.map((c) => [
            escapeHtml(c.name),
            c.provider ? `${escapeHtml(c.provider)}: ${code(c.what)}` : code(c.what),
            c.outcome.measurements
              .map((m, i) =>
                i < c.outcome.awaited
                  ? `… ${escapeHtml(m.detail)} (waiting for data, not counted)`
                  : `${m.ok ? '✓' : m.inconclusive ? '?' : '✗'} ${escapeHtml(m.detail)}`,
              )
              .join('<br>'),
            c.outcome.verdict,
          ]),
        ]);
        s.addRaw(`\n\n${timeline(analysis, result, started, wentLive)}\n`);
      }
      const { kpis } = read;
      if (kpis.releases > 0) {
        s.addHeading(
          `Release KPIs: the last ${kpis.releases} releases${kpis.since ? ` since ${escapeHtml(kpis.since.slice(0, 10))}` : ''}`,
          4,
        ).addTable([
          [
            { data: 'KPI', header: true },
            { data: 'Value', header: true },
            { data: 'Target', header: true },
          ],
          ...kpiRows(kpis).map((row) => row.map((cell) => escapeHtml(cell))),
        ]);
        const chart = kpiChart(kpis);
        if (chart) s.addRaw(`\n\n${chart}\n`);
      }
    },
  );
}
