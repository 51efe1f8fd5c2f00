import { describe, expect, it } from '@jest/globals';
import { isTransientNetworkMessage, isTransientStatus, retry } from '../src/index.js';

const noSleep = async () => {};

describe('retry', () => {
  it('retries transient failures with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new Error('503');
        return 'ok';
      },
      { attempts: 4, baseDelayMs: 100, sleep: noSleep, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(75);
    expect(delays[0]).toBeLessThanOrEqual(125);
    expect(delays[1]).toBeGreaterThanOrEqual(150);
    expect(delays[1]).toBeLessThanOrEqual(250);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`fail ${calls}`);
        },
        { attempts: 3, sleep: noSleep },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('does not retry what is not transient', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('bad input');
        },
        { isTransient: () => false, sleep: noSleep },
      ),
    ).rejects.toThrow('bad input');
    expect(calls).toBe(1);
  });

  it('caps the delay', async () => {
    const delays: number[] = [];
    await expect(
      retry(
        async () => {
          throw new Error('x');
        },
        { attempts: 6, baseDelayMs: 1000, maxDelayMs: 2000, sleep: noSleep, onRetry: (_e, _a, d) => delays.push(d) },
      ),
    ).rejects.toThrow();
    expect(Math.max(...delays)).toBeLessThanOrEqual(2500);
  });

  it('classifies statuses and network messages', () => {
    expect([408, 429, 500, 502, 503].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404, 409].some(isTransientStatus)).toBe(false);
    expect(isTransientNetworkMessage('read tcp: connection reset by peer')).toBe(true);
    expect(isTransientNetworkMessage('fetch failed')).toBe(true);
    expect(isTransientNetworkMessage('manifest unknown')).toBe(false);
  });
});
