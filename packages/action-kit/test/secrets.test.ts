import { describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskSecret, redactSecrets, runAction } from '../src/index.js';

/** The values the runner is told to mask while `work` runs. */
function masksOf(work: () => void): string[] {
  const writes: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    work();
  } finally {
    spy.mockRestore();
  }
  return writes
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => l.slice('::add-mask::'.length));
}

describe('maskSecret', () => {
  it('masks the value, each line of a multi-line value, and the base64 form', () => {
    const masks = masksOf(() => {
      maskSecret('-----BEGIN KEY-----\nabcdEFGH1234\n-----END KEY-----');
      maskSecret('');
    });
    expect(masks).toContain('abcdEFGH1234');
    expect(masks).toContain('-----BEGIN KEY-----');
    expect(masks).toContain(Buffer.from('-----BEGIN KEY-----\nabcdEFGH1234\n-----END KEY-----').toString('base64'));
    expect(masks.length).toBeGreaterThanOrEqual(4);
  });

  it('masks a secret that ends in a newline, and the base64 of it with and without the newline', () => {
    const masks = masksOf(() => maskSecret('tok3n-value-xyz\n'));
    expect(masks).toContain('tok3n-value-xyz');
    expect(masks).toContain(Buffer.from('tok3n-value-xyz\n').toString('base64'));
    expect(masks).toContain(Buffer.from('tok3n-value-xyz').toString('base64'));
  });
});

describe('runAction', () => {
  it('a failure is a failed step and a section of the job summary, secrets redacted there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'summary-'));
    const summaryFile = join(dir, 'summary');
    writeFileSync(summaryFile, '');
    const saved = { summary: process.env.GITHUB_STEP_SUMMARY, exitCode: process.exitCode };
    process.env.GITHUB_STEP_SUMMARY = summaryFile;
    try {
      const quiet = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      try {
        await runAction(async () => {
          maskSecret('hunter2-password');
          throw new Error('rollout failed: pod shop-1 <CrashLoopBackOff> with password hunter2-password');
        }, 'bluegreen-deploy');
      } finally {
        quiet.mockRestore();
      }
      expect(readFileSync(summaryFile, 'utf8')).toBe(
        '<h3>bluegreen-deploy failed</h3>\n<pre>rollout failed: pod shop-1 &lt;CrashLoopBackOff&gt; with password ***</pre>\n',
      );
      expect(redactSecrets('a hunter2-password b')).toBe('a *** b');
    } finally {
      process.env.GITHUB_STEP_SUMMARY = saved.summary;
      process.exitCode = saved.exitCode;
    }
  });
});
