import { describe, expect, it, jest } from '@jest/globals';
import { maskSecret } from '../src/index.js';

describe('maskSecret', () => {
  it('masks the value, each line of a multi-line value, and the base64 form', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      maskSecret('-----BEGIN KEY-----\nabcdEFGH1234\n-----END KEY-----');
      maskSecret('');
    } finally {
      spy.mockRestore();
    }
    const masks = writes
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    expect(masks).toContain('abcdEFGH1234');
    expect(masks).toContain('-----BEGIN KEY-----');
    expect(masks).toContain(Buffer.from('-----BEGIN KEY-----\nabcdEFGH1234\n-----END KEY-----').toString('base64'));
    expect(masks.length).toBeGreaterThanOrEqual(4);
  });

  it('masks a secret that ends in a newline, and the base64 of it with and without the newline', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      maskSecret('tok3n-value-xyz\n');
    } finally {
      spy.mockRestore();
    }
    const masks = writes
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    expect(masks).toContain('tok3n-value-xyz');
    expect(masks).toContain(Buffer.from('tok3n-value-xyz\n').toString('base64'));
    expect(masks).toContain(Buffer.from('tok3n-value-xyz').toString('base64'));
  });
});
