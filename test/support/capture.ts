// Keeps what every run showed (logs, summaries, outputs) and the secrets it was given, in .tmp/captured/,
// for the secret scan that closes the test command (scripts/secret-scan.ts).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(new URL('../../', import.meta.url).pathname, '.tmp/captured');
let sequence = 0;

/** Input names whose values are secrets (the action masks them; the scan checks it did). */
export const SECRET_INPUT = /password|private-key|kubeconfig|token|secret/i;

export interface CapturedRun {
  /** What the runner displays after masking: logs. */
  shown: string[];
  /** What it does not mask: summaries, outputs. */
  unmasked: string[];
  secrets: string[];
}

export function captureRun(name: string, run: CapturedRun): void {
  mkdirSync(dir, { recursive: true });
  const file = `${process.pid}-${String(++sequence).padStart(4, '0')}-${name.replace(/[^\w.-]+/g, '_')}.json`;
  writeFileSync(join(dir, file), JSON.stringify(run));
}

/** A secret a test made outside any action's inputs (an OIDC token, a service account token). */
export function registerSecret(value: string): void {
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'secrets.jsonl'), `${JSON.stringify(value)}\n`);
}
