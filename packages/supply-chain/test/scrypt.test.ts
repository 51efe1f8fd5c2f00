// The WebAssembly scrypt against OpenSSL's (node:crypto), which cosign's keys are known to open with:
// the same bytes on RFC 7914's vectors, cosign's parameters and odd shapes (r = 1, p > 1, short and long
// keys, empty and non-ASCII passwords); parameters it does not take go to OpenSSL; and the committed
// module is what its WAT source assembles to.
import { describe, expect, it, jest } from '@jest/globals';
import { scryptSync } from 'node:crypto';
import { scrypt, scryptEngine, type ScryptParams } from '../src/scrypt.js';
import { ROMIX_WASM } from '../src/romix-wasm.js';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { assembleRomix, moduleSource } from '../../../scripts/romix-wasm.mjs';

const openssl = (password: Buffer, salt: Buffer, { N, r, p, keyLength }: ScryptParams) =>
  scryptSync(password, salt, keyLength, { N, r, p, maxmem: 512 * 1024 * 1024 });

describe('scrypt', () => {
  it('gives RFC 7914 test vector 2 (N=1024, r=8, p=16)', async () => {
    const key = await scrypt(
      Buffer.from('password'),
      Buffer.from('NaCl'),
      { N: 1024, r: 8, p: 16, keyLength: 64 },
      'wasm',
    );
    expect(key.toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  const cases: [string, string, ScryptParams][] = [
    ['fixture-password', 'cosign salt of 32 bytes, random..', { N: 65536, r: 8, p: 1, keyLength: 32 }],
    ['pleaseletmein', 'SodiumChloride', { N: 16384, r: 8, p: 1, keyLength: 64 }],
    ['', '', { N: 16, r: 1, p: 1, keyLength: 64 }],
    ['pässwörd 🔑', 'salt', { N: 2, r: 3, p: 2, keyLength: 40 }],
    ['x', 'y', { N: 256, r: 1, p: 3, keyLength: 17 }],
    ['long key', 'z', { N: 4096, r: 2, p: 1, keyLength: 200 }],
  ];
  it.each(cases)('matches OpenSSL for %j / %j %j', async (password, salt, params) => {
    expect(scryptEngine(params)).toBe('wasm');
    const expected = openssl(Buffer.from(password), Buffer.from(salt), params);
    expect((await scrypt(Buffer.from(password), Buffer.from(salt), params, 'wasm')).equals(expected)).toBe(true);
  });

  it('runs parallel derivations each on its own memory', async () => {
    const params = { N: 4096, r: 8, p: 1, keyLength: 32 };
    const keys = await Promise.all(
      ['a', 'b', 'c'].map((password) => scrypt(Buffer.from(password), Buffer.from('salt'), params, 'wasm')),
    );
    expect(keys.map((k) => k.toString('hex'))).toEqual(
      ['a', 'b', 'c'].map((password) => openssl(Buffer.from(password), Buffer.from('salt'), params).toString('hex')),
    );
  });

  it('leaves parameters it does not take to OpenSSL, which rejects the invalid ones', async () => {
    expect(scryptEngine({ N: 1000, r: 8, p: 1, keyLength: 32 })).toBe('openssl');
    expect(scryptEngine({ N: 1, r: 8, p: 1, keyLength: 32 })).toBe('openssl');
    expect(scryptEngine({ N: 1 << 20, r: 8, p: 1, keyLength: 32 })).toBe('openssl'); // 1 GiB of V
    await expect(
      scrypt(Buffer.from('pw'), Buffer.from('salt'), { N: 1000, r: 8, p: 1, keyLength: 32 }),
    ).rejects.toThrow(/N|scrypt/i);
    const forced = await scrypt(
      Buffer.from('pw'),
      Buffer.from('salt'),
      { N: 1024, r: 2, p: 1, keyLength: 32 },
      'openssl',
    );
    expect(forced.equals(openssl(Buffer.from('pw'), Buffer.from('salt'), { N: 1024, r: 2, p: 1, keyLength: 32 }))).toBe(
      true,
    );
  });

  it('falls back to OpenSSL when the worker cannot have its memory; a named engine does not', async () => {
    const params = { N: 1024, r: 8, p: 1, keyLength: 32 };
    const refused = jest.spyOn(WebAssembly, 'Memory').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory(): could not allocate memory');
    });
    try {
      expect(
        (await scrypt(Buffer.from('pw'), Buffer.from('salt'), params)).equals(
          openssl(Buffer.from('pw'), Buffer.from('salt'), params),
        ),
      ).toBe(true);
      await expect(scrypt(Buffer.from('pw'), Buffer.from('salt'), params, 'wasm')).rejects.toThrow(
        /could not allocate/,
      );
      await expect(scrypt(Buffer.from('pw'), Buffer.from('salt'), { ...params, N: 1000 }, 'wasm')).rejects.toThrow(
        /not one the WebAssembly engine takes/,
      );
    } finally {
      refused.mockRestore();
    }
  });

  it('ships the module its WAT source assembles to', async () => {
    const bytes = (await assembleRomix()) as Buffer;
    expect((moduleSource(bytes) as string).includes(`'${ROMIX_WASM}'`)).toBe(true);
    expect(bytes.toString('base64')).toBe(ROMIX_WASM);
  });
});
