import { pbkdf2Sync, scrypt as opensslScrypt } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { ROMIX_WASM } from './romix-wasm.js';

// scrypt (RFC 7914) for opening cosign keys: N=65536, r=8, 64 MiB, three quarters of a signing run.
// OpenSSL's (node:crypto) takes ~175 ms here, of which ~40 ms is the kernel faulting in 64 MiB and ~6 ms
// wiping it after. This one runs ROMix as 128-bit SIMD WebAssembly in a worker (~100 ms of compute) while
// the main thread faults the pages in ahead of it, so the key comes ~40 ms sooner; the PBKDF2 steps around
// ROMix stay node:crypto's. Any parameters it does not take, or any failure of the worker, fall back to
// node:crypto, which gives the same bytes (the tests compare both on many parameter sets).

// The part of the WebAssembly JS API used here (TypeScript declares it only in its DOM libraries).
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebAssembly {
    // eslint-disable-next-line @typescript-eslint/no-extraneous-class
    class Module {
      constructor(bytes: Uint8Array);
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
    }
    function validate(bytes: Uint8Array): boolean;
  }
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keyLength: number;
}

export type ScryptEngine = 'wasm' | 'openssl';

/** V beyond this goes to OpenSSL: a worker's shared memory is reserved whole, and no cosign key comes near. */
const WASM_MAX_BYTES = 512 * 1024 * 1024;
const PAGE = 65536;

// The worker: ROMix of each of the p blocks, in place. Evaluated from this string (CommonJS), so the
// bundle needs no second entry file.
const WORKER_SOURCE = `const { workerData: job, parentPort } = require('node:worker_threads');
const { romix } = new WebAssembly.Instance(job.module, { env: { memory: job.memory } }).exports;
for (let block = 0; block < job.p; block++) romix(block * job.blockSize, job.scratch, job.v, job.N, job.r);
parentPort.postMessage('done');`;

let compiled: WebAssembly.Module | null | undefined;

function romixModule(): WebAssembly.Module | undefined {
  if (compiled === undefined) {
    const bytes = Buffer.from(ROMIX_WASM, 'base64');
    // A runtime without SIMD or threads (shared memory) does not validate it: OpenSSL then.
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled ?? undefined;
}

function opensslKey(password: Buffer, salt: Buffer, { N, r, p, keyLength }: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below cosign's N=65536, r=8 (64 MiB).
  return new Promise((resolve, reject) =>
    opensslScrypt(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Which engine takes these parameters. */
export function scryptEngine({ N, r, p, keyLength }: ScryptParams): ScryptEngine {
  const valid =
    Number.isInteger(N) &&
    N > 1 &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r > 0 &&
    Number.isInteger(p) &&
    p > 0 &&
    Number.isInteger(keyLength) &&
    keyLength > 0;
  return valid && (N + p + 1) * 128 * r <= WASM_MAX_BYTES && romixModule() ? 'wasm' : 'openssl';
}

// Word 5i mod 16 of each 64-byte block goes to lane i: the diagonals side by side (see scripts/romix-wasm.mjs).
function permute(from: DataView, to: DataView, blocks: number, inward: boolean): void {
  for (let block = 0; block < blocks; block++) {
    for (let lane = 0; lane < 16; lane++) {
      const natural = (block * 16 + ((lane * 5) % 16)) * 4;
      const laned = (block * 16 + lane) * 4;
      if (inward) to.setUint32(laned, from.getUint32(natural, true), true);
      else to.setUint32(natural, from.getUint32(laned, true), true);
    }
  }
}

/**
 * Touches every page of V once, from the start, while the worker boots and then fills V behind it: the
 * page faults (~40 ms for 64 MiB) land on this thread instead of the worker's. Each touch is an atomic
 * compare-and-swap of 0 by 0, so it can never change a word the worker has already written.
 */
function faultIn(memory: WebAssembly.Memory, from: number): void {
  const words = new Int32Array(memory.buffer);
  for (let word = from >> 2; word < words.length; word += 1024) Atomics.compareExchange(words, word, 0, 0);
}

async function wasmKey(
  password: Buffer,
  salt: Buffer,
  { N, r, p, keyLength }: ScryptParams,
  module: WebAssembly.Module,
): Promise<Buffer> {
  const blockSize = 128 * r;
  const mixed = pbkdf2Sync(password, salt, 1, p * blockSize, 'sha256');
  // [X for each of the p blocks][scratch Y][V: N blocks]
  const scratch = p * blockSize;
  const v = scratch + blockSize;
  const pages = Math.ceil((v + N * blockSize) / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const view = new DataView(memory.buffer);
  const natural = new DataView(mixed.buffer, mixed.byteOffset, mixed.length);
  const salsaBlocks = (p * blockSize) / 64;
  permute(natural, view, salsaBlocks, true);
  const { Worker: WorkerThread } = process.getBuiltinModule('node:worker_threads');
  const worker: Worker = new WorkerThread(WORKER_SOURCE, {
    eval: true,
    workerData: { module, memory, blockSize, scratch, v, N, r, p },
  });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the scrypt worker exited with code ${code} before it was done`)));
  });
  faultIn(memory, v);
  await done;
  permute(view, natural, salsaBlocks, false);
  return pbkdf2Sync(password, mixed, 1, keyLength, 'sha256');
}

/**
 * scrypt(password, salt, N, r, p) → keyLength bytes. `auto`: WebAssembly in a worker where it can, else (or
 * when the worker fails) OpenSSL. A named engine is used as is, failures included (the tests name it).
 */
export async function scrypt(
  password: Buffer,
  salt: Buffer,
  params: ScryptParams,
  engine: ScryptEngine | 'auto' = 'auto',
): Promise<Buffer> {
  const module = engine !== 'openssl' && scryptEngine(params) === 'wasm' ? romixModule() : undefined;
  if (!module) {
    if (engine === 'wasm')
      throw new Error(`scrypt N=${params.N} r=${params.r} p=${params.p} is not one the WebAssembly engine takes`);
    return opensslKey(password, salt, params);
  }
  if (engine === 'wasm') return wasmKey(password, salt, params, module);
  try {
    return await wasmKey(password, salt, params, module);
  } catch {
    // The worker could not start or failed (a runtime without worker threads, a memory limit): same key from OpenSSL.
    return opensslKey(password, salt, params);
  }
}
