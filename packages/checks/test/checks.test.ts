import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputReader } from '@deploy-suite/action-kit';
import { inputProblems } from '../../../test/support/input-problems.js';
import { judgeResponse, probeOnce, readHttpCheck, runCheck, type HttpProbe } from '../src/index.js';
import { boundedMatch } from '../src/bounded-match.js';

const probe: HttpProbe = { url: 'http://x/healthz', expectStatus: [200, 204], timeoutMs: 1000 };

describe('judging a response', () => {
  it('accepts the expected statuses, and the body match when asked', () => {
    expect(judgeResponse(probe, { status: 204, body: '' }, 12.4)).toMatchObject({
      ok: true,
      detail: 'status 204 in 12 ms',
      ms: 12,
    });
    expect(judgeResponse(probe, { status: 503, body: '' }, 3)).toMatchObject({
      ok: false,
      detail: 'status 503, expected 200 or 204',
    });
    const withBody = { ...probe, bodyMatch: /"status":"ok"/ };
    expect(judgeResponse(withBody, { status: 200, body: '{"status":"ok"}' }, 1).ok).toBe(true);
    expect(judgeResponse(withBody, { status: 200, body: '{"status":"degraded"}' }, 1)).toMatchObject({
      ok: false,
      detail: 'status 200 but the body does not match /"status":"ok"/',
    });
    // No answer at all is told apart from a bad one: a route being set up (the preview check waits it out).
    expect(judgeResponse(probe, { error: 'ECONNREFUSED' }, 1)).toMatchObject({
      ok: false,
      unanswered: true,
      detail: 'ECONNREFUSED',
    });
    expect(judgeResponse(probe, { status: 503, body: '' }, 3)).not.toHaveProperty('unanswered');
  });

  it('stops a body match that backtracks (ReDoS) after its bound and fails the measurement', () => {
    // 28 bytes: this pattern backtracks for seconds unbounded (2 s measured before the bound).
    const redos = { ...probe, bodyMatch: /^(\w+\s?)*$/ };
    const measurement = judgeResponse(redos, { status: 200, body: 'aaaaaaaaaaaaaaaaaaaaaaaaaaa!' }, 1);
    expect(measurement.ok).toBe(false);
    expect(measurement.detail).toMatch(/took over 200 ms \(stopped\): simplify the pattern/);
    // The same pattern on a body it matches at once is an ordinary pass; a global pattern is matched afresh each time.
    expect(judgeResponse(redos, { status: 200, body: 'all good here' }, 1).ok).toBe(true);
    const global = { ...probe, bodyMatch: /ok/g };
    expect(judgeResponse(global, { status: 200, body: 'ok' }, 1).ok).toBe(true);
    expect(judgeResponse(global, { status: 200, body: 'ok' }, 1).ok).toBe(true);
  });

  it('bounds the match with its own time limit', () => {
    expect(boundedMatch(/^(a+)+$/, `${'a'.repeat(40)}!`, 50)).toBe('timeout');
    expect(boundedMatch(/^(a+)+$/, 'aaaa', 50)).toBe(true);
    expect(boundedMatch(/b/, 'aaaa', 50)).toBe(false);
  });
});

describe('running a check (Argo Rollouts analysis semantics)', () => {
  const noSleep = async () => undefined;
  const sequence = (oks: boolean[]) => {
    let i = 0;
    return async () => ({ ok: oks[i++] ?? true });
  };

  it('passes when every measurement was taken within the failure limit', async () => {
    expect(
      await runCheck({ count: 3, intervalMs: 10, failureLimit: 0 }, sequence([true, true, true]), { sleep: noSleep }),
    ).toMatchObject({ passed: true, failures: 0 });
    expect(
      await runCheck({ count: 3, intervalMs: 10, failureLimit: 1 }, sequence([true, false, true]), { sleep: noSleep }),
    ).toMatchObject({ passed: true, failures: 1 });
  });

  it('fails as soon as failures exceed the limit, without taking the rest', async () => {
    const outcome = await runCheck(
      { count: 5, intervalMs: 10, failureLimit: 1 },
      sequence([false, true, false, true, true]),
      { sleep: noSleep },
    );
    expect(outcome).toMatchObject({ passed: false, failures: 2 });
    expect(outcome.measurements).toHaveLength(3);
  });

  it('sleeps the interval between measurements, not before the first', async () => {
    const sleeps: number[] = [];
    await runCheck({ count: 3, intervalMs: 250, failureLimit: 0 }, sequence([]), {
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(sleeps).toEqual([250, 250]);
  });
});

describe('probing a real server', () => {
  it('measures status, body, timeouts and refused connections', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500);
      res.writeHead(req.url === '/ok' ? 200 : 503).end(req.url === '/ok' ? '{"status":"ok"}' : 'down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(
        await probeOnce({ url: `${base}/ok`, expectStatus: [200], bodyMatch: /ok/, timeoutMs: 1000 }),
      ).toMatchObject({ ok: true });
      expect(await probeOnce({ url: `${base}/down`, expectStatus: [200], timeoutMs: 1000 })).toMatchObject({
        ok: false,
        detail: 'status 503, expected 200',
      });
      expect(await probeOnce({ url: `${base}/slow`, expectStatus: [200], timeoutMs: 100 })).toMatchObject({
        ok: false,
        detail: 'timeout after 100 ms',
      });
    } finally {
      server.close();
    }
    expect(await probeOnce({ url: base, expectStatus: [200], timeoutMs: 1000 })).toMatchObject({
      ok: false,
      detail: 'ECONNREFUSED',
    });
  });
});

describe('HTTP check inputs', () => {
  const read = (values: Record<string, string>) => readHttpCheck(new InputReader((name) => values[name]), 'preview');

  it('no URL, no check; defaults otherwise', () => {
    expect(read({})).toBeUndefined();
    expect(read({ 'preview-url': 'https://preview.shop.example/healthz' })).toEqual({
      probe: { url: 'https://preview.shop.example/healthz', expectStatus: [200], timeoutMs: 5000 },
      schedule: { count: 3, intervalMs: 2000, failureLimit: 0 },
    });
    const full = read({
      'preview-url': 'http://x/h',
      'preview-expect-status': '200, 204',
      'preview-body': 'ok$',
      'preview-checks': '5',
      'preview-interval': '1s',
      'preview-failure-limit': '1',
      'preview-timeout': '2s',
    });
    expect(full?.probe).toMatchObject({ expectStatus: [200, 204], bodyMatch: /ok$/, timeoutMs: 2000 });
    expect(full?.schedule).toEqual({ count: 5, intervalMs: 1000, failureLimit: 1 });
  });

  it.each([
    [{ 'preview-url': 'preview.shop.example' }, 'preview-url', /not an http\(s\) URL/],
    [{ 'preview-url': 'ftp://x/' }, 'preview-url', /not an http\(s\) URL/],
    [
      { 'preview-url': 'http://x/', 'preview-expect-status': 'ok' },
      'preview-expect-status',
      /not a list of HTTP status codes/,
    ],
    [{ 'preview-url': 'http://x/', 'preview-body': '(' }, 'preview-body', /not a regular expression/],
    [
      { 'preview-url': 'http://x/', 'preview-failure-limit': '3' },
      'preview-failure-limit',
      /allows every one of the 3 checks to fail/,
    ],
    [{ 'preview-url': 'http://x/', 'preview-failure-limit': '-1' }, 'preview-failure-limit', /not a whole number/],
    [{ 'preview-url': 'http://x/', 'preview-interval': 'often' }, 'preview-interval', /not a duration/],
  ])('%j is refused naming %s', (values, input, message) => {
    const problems = inputProblems(() => {
      const reader = new InputReader((name) => (values as Record<string, string>)[name]);
      readHttpCheck(reader, 'preview');
      reader.done();
    });
    expect(problems.find((p) => p.input === input)?.problem).toMatch(message);
  });
});
