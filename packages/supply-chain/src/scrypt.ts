import { scrypt as nodeScrypt } from 'node:crypto';

// scrypt (RFC 7914) for opening cosign keys: N=65536, r=8 (64 MiB). node:crypto's (OpenSSL's) runs on
// libuv's thread pool, so an action can start it early and load the rest of its code meanwhile. One
// implementation, kept by Node: a hand-written WebAssembly kernel saved ~40 ms of a step nobody waits on.

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

/** scrypt(password, salt, N, r, p) → keyLength bytes, off the main thread. */
export function scrypt(password: Buffer, salt: Buffer, { N, r, p, keyLength }: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below cosign's N=65536, r=8 (64 MiB).
  return new Promise((resolve, reject) =>
    nodeScrypt(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}
