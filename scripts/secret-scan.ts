// The secret scan that closes the test command: every run the tests captured (test/support/capture.ts:
// logs as the runner displays them, summaries, outputs) against every secret any test used, in plain and
// base64 forms; also the test command's own output. Exit 1 on any leak.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs scripts/secret-scan.ts [extra-log…]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findLeaks, type Capture } from '../test/support/secret-scan.js';
import type { CapturedRun } from '../test/support/capture.js';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, '.tmp/captured');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
const captures: Capture[] = [];
const secrets = new Set<string>();
for (const file of files) {
  const run = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CapturedRun;
  captures.push({ source: `.tmp/captured/${file}`, shown: run.shown, unmasked: run.unmasked });
  for (const secret of run.secrets) if (secret) secrets.add(secret);
}
if (existsSync(join(dir, 'secrets.jsonl'))) {
  for (const line of readFileSync(join(dir, 'secrets.jsonl'), 'utf8').split('\n'))
    if (line) secrets.add(JSON.parse(line) as string);
}
// The fixtures' key files are secrets whether or not a captured run was given them.
for (const key of ['cosign.key', 'other.key'])
  secrets.add(readFileSync(join(root, 'test/fixtures/cosign', key), 'utf8'));
// Jest's own output and any other log given, read as a runner would show it: unit tests call the input
// readers in-process, and their ::add-mask:: commands land there (a runner consumes those, never shows them).
for (const extra of process.argv.slice(2))
  if (existsSync(extra)) captures.push({ source: extra, shown: [readFileSync(extra, 'utf8')], unmasked: [] });

if (files.length === 0) {
  console.error('secret scan: nothing captured (did the tests run?)');
  process.exit(1);
}
const leaks = findLeaks(captures, secrets);
console.log(
  `secret scan: ${captures.length} captured runs and logs, ${secrets.size} secrets in plain and base64 forms: ${leaks.length} leak(s)`,
);
for (const leak of leaks.slice(0, 50))
  console.error(`  LEAK ${leak.form} of a secret (${leak.secret}) in ${leak.source}`);
process.exit(leaks.length ? 1 : 0);
