import { appendFileSync } from 'node:fs';
import * as core from '@actions/core';
import { redactSecrets } from './secrets.js';

export type SummaryRow = [label: string, value: string];

/** A job summary section: a heading and a two-column table of facts, written at once. */
export async function writeSummary(
  heading: string,
  rows: SummaryRow[],
  extra?: (s: typeof core.summary) => void,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const summary = core.summary.addHeading(heading, 3).addTable([
    [
      { data: 'Item', header: true },
      { data: 'Value', header: true },
    ],
    ...rows.map(([label, value]) => [label, value]),
  ]);
  extra?.(summary);
  // Appended at once, synchronously: core.summary.write() goes through fs/promises and the thread pool
  // (~3 ms at the end of every run, as much as the work it reports on for a signature).
  // The runner masks logs, not the summary: what a tool or a hook printed may carry a masked value.
  appendFileSync(process.env.GITHUB_STEP_SUMMARY, redactSecrets(summary.stringify()));
  summary.emptyBuffer();
}

export function code(value: string): string {
  return `<code>${escapeHtml(value)}</code>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
