import { describe, expect, it, jest } from '@jest/globals';
import { maskSecret } from '../src/index.js';

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
