// The key derivation cosign's keys are sealed with: RFC 7914's vector, cosign's parameters (the memory
// limit above Node's default 32 MiB), and invalid parameters refused rather than guessed.
import { describe, expect, it } from '@jest/globals';
import { scrypt } from '../src/scrypt.js';

describe('scrypt', () => {
  it('gives RFC 7914 test vector 2 (N=1024, r=8, p=16)', async () => {
    const key = await scrypt(Buffer.from('password'), Buffer.from('NaCl'), { N: 1024, r: 8, p: 16, keyLength: 64 });
    expect(key.toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  it("takes cosign's parameters (64 MiB, above Node's default limit)", async () => {
    const key = await scrypt(Buffer.from('pw'), Buffer.alloc(32, 1), { N: 65536, r: 8, p: 1, keyLength: 32 });
    expect(key).toHaveLength(32);
  });

  it('rejects parameters that are not scrypt (N not a power of two)', async () => {
    await expect(
      scrypt(Buffer.from('pw'), Buffer.from('salt'), { N: 1000, r: 8, p: 1, keyLength: 32 }),
    ).rejects.toThrow(/N|scrypt|invalid/i);
  });
});
