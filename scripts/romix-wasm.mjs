// Generates scrypt's memory-hard core (ROMix over salsa20/8 BlockMix, RFC 7914) as WebAssembly with
// 128-bit SIMD, and writes it, base64, into packages/supply-chain/src/romix-wasm.ts (committed: the
// actions run it as is). The WAT below is the source; wabt (a dev dependency) assembles it.
//   node scripts/romix-wasm.mjs           write the module
//   node scripts/romix-wasm.mjs --check   fail when the committed module differs from a fresh build
//
// Layout (Percival's SSE2 scrypt): each 64-byte salsa block is kept with word 5i mod 16 in lane i, so the
// four diagonals sit in four vectors and a salsa round is four add-rotate-xor steps and three lane
// shuffles. The caller permutes X in and out; ROMix itself never needs the natural order (Integerify
// reads lane 0 of the last block, which is word 0 either way).
import { readFileSync, writeFileSync } from 'node:fs';

const target = new URL('../packages/supply-chain/src/romix-wasm.ts', import.meta.url);

const lanes = (order) => order.flatMap((lane) => [0, 1, 2, 3].map((byte) => 4 * lane + byte)).join(' ');
const ROTATE_LEFT_1 = lanes([3, 0, 1, 2]); // _mm_shuffle_epi32(x, 0x93)
const SWAP_HALVES = lanes([2, 3, 0, 1]); // 0x4E
const ROTATE_RIGHT_1 = lanes([1, 2, 3, 0]); // 0x39

/** out ^= rotl(a + b, s), lane-wise */
const arx = (out, a, b, s) => `
          (local.set $t (i32x4.add (local.get ${a}) (local.get ${b})))
          (local.set ${out} (v128.xor (v128.xor (local.get ${out}) (i32x4.shl (local.get $t) (i32.const ${s}))) (i32x4.shr_u (local.get $t) (i32.const ${32 - s}))))`;
const shuffle = (x, pattern) => `
          (local.set ${x} (i8x16.shuffle ${pattern} (local.get ${x}) (local.get ${x})))`;
const doubleRound = [
  arx('$x1', '$x0', '$x3', 7),
  arx('$x2', '$x1', '$x0', 9),
  arx('$x3', '$x2', '$x1', 13),
  arx('$x0', '$x3', '$x2', 18),
  shuffle('$x1', ROTATE_LEFT_1),
  shuffle('$x2', SWAP_HALVES),
  shuffle('$x3', ROTATE_RIGHT_1),
  arx('$x3', '$x0', '$x1', 7),
  arx('$x2', '$x3', '$x0', 9),
  arx('$x1', '$x2', '$x3', 13),
  arx('$x0', '$x1', '$x2', 18),
  shuffle('$x1', ROTATE_RIGHT_1),
  shuffle('$x2', SWAP_HALVES),
  shuffle('$x3', ROTATE_LEFT_1),
].join('');

/** One 16-byte lane group of the input: B[i], or B[i] xor V[j][i] in the second loop. */
const input = (withV, offset) =>
  withV
    ? `(v128.xor (v128.load offset=${offset} (local.get $p)) (v128.load offset=${offset} (local.get $q)))`
    : `(v128.load offset=${offset} (local.get $p))`;

/** BlockMix_salsa20/8 from $in (xor $v) into $out: even blocks to the first half, odd ones to the second. */
const blockmix = (name, withV) => `
  (func ${name} (param $in i32) ${withV ? '(param $v i32) ' : ''}(param $out i32) (param $r i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $t v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $i i32) (local $blocks i32) (local $p i32) (local $q i32) (local $d i32) (local $round i32)
    (local.set $blocks (i32.shl (local.get $r) (i32.const 1)))
    ;; X = the last 64-byte block of the input
    (local.set $p (i32.add (local.get $in) (i32.shl (i32.sub (local.get $blocks) (i32.const 1)) (i32.const 6))))
    ${withV ? '(local.set $q (i32.add (local.get $v) (i32.shl (i32.sub (local.get $blocks) (i32.const 1)) (i32.const 6))))' : ''}
    (local.set $x0 ${input(withV, 0)})
    (local.set $x1 ${input(withV, 16)})
    (local.set $x2 ${input(withV, 32)})
    (local.set $x3 ${input(withV, 48)})
    (local.set $p (local.get $in))
    ${withV ? '(local.set $q (local.get $v))' : ''}
    (loop $block
      (local.set $x0 (v128.xor (local.get $x0) ${input(withV, 0)}))
      (local.set $x1 (v128.xor (local.get $x1) ${input(withV, 16)}))
      (local.set $x2 (v128.xor (local.get $x2) ${input(withV, 32)}))
      (local.set $x3 (v128.xor (local.get $x3) ${input(withV, 48)}))
      (local.set $s0 (local.get $x0)) (local.set $s1 (local.get $x1)) (local.set $s2 (local.get $x2)) (local.set $s3 (local.get $x3))
      ;; salsa20/8: four double rounds
      (local.set $round (i32.const 4))
      (loop $rounds${doubleRound}
        (local.set $round (i32.sub (local.get $round) (i32.const 1)))
        (br_if $rounds (local.get $round)))
      (local.set $x0 (i32x4.add (local.get $x0) (local.get $s0)))
      (local.set $x1 (i32x4.add (local.get $x1) (local.get $s1)))
      (local.set $x2 (i32x4.add (local.get $x2) (local.get $s2)))
      (local.set $x3 (i32x4.add (local.get $x3) (local.get $s3)))
      (local.set $d (i32.add (local.get $out) (i32.shl
        (i32.add (i32.shr_u (local.get $i) (i32.const 1)) (i32.mul (i32.and (local.get $i) (i32.const 1)) (local.get $r)))
        (i32.const 6))))
      (v128.store offset=0 (local.get $d) (local.get $x0))
      (v128.store offset=16 (local.get $d) (local.get $x1))
      (v128.store offset=32 (local.get $d) (local.get $x2))
      (v128.store offset=48 (local.get $d) (local.get $x3))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      ${withV ? '(local.set $q (i32.add (local.get $q) (i32.const 64)))' : ''}
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $block (i32.lt_u (local.get $i) (local.get $blocks)))))`;

export const romixWat = `(module
  ;; Shared: the main thread faults the pages in while a worker computes (see scrypt.ts).
  (import "env" "memory" (memory 1 65536 shared))
  ${blockmix('$blockmix', false)}
  ${blockmix('$blockmixXor', true)}
  ;; ROMix of the 128·r bytes at $x (N a power of two), with $y as scratch and N blocks of V at $v.
  (func (export "romix") (param $x i32) (param $y i32) (param $v i32) (param $n i32) (param $r i32)
    (local $size i32) (local $last i32) (local $i i32) (local $j i32) (local $at i32) (local $swap i32)
    (local.set $size (i32.shl (local.get $r) (i32.const 7)))
    (local.set $last (i32.shl (i32.sub (i32.shl (local.get $r) (i32.const 1)) (i32.const 1)) (i32.const 6)))
    ;; V[0] = X; V[i] = BlockMix(V[i-1]), written in place; X = BlockMix(V[N-1])
    (memory.copy (local.get $v) (local.get $x) (local.get $size))
    (local.set $at (local.get $v))
    (local.set $i (i32.const 1))
    (block $filled
      (loop $fill
        (br_if $filled (i32.ge_u (local.get $i) (local.get $n)))
        (call $blockmix (local.get $at) (i32.add (local.get $at) (local.get $size)) (local.get $r))
        (local.set $at (i32.add (local.get $at) (local.get $size)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (call $blockmix (local.get $at) (local.get $x) (local.get $r))
    ;; X = BlockMix(X xor V[Integerify(X) mod N]), N times; N is even, so X ends where it began
    (local.set $i (i32.const 0))
    (loop $mix
      (local.set $j (i32.and (i32.load (i32.add (local.get $x) (local.get $last))) (i32.sub (local.get $n) (i32.const 1))))
      (call $blockmixXor (local.get $x) (i32.add (local.get $v) (i32.mul (local.get $j) (local.get $size))) (local.get $y) (local.get $r))
      (local.set $swap (local.get $x)) (local.set $x (local.get $y)) (local.set $y (local.get $swap))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $mix (i32.lt_u (local.get $i) (local.get $n)))))
)`;

export async function assembleRomix() {
  const wabt = await (await import('wabt')).default();
  const parsed = wabt.parseWat('romix.wat', romixWat, { simd: true, bulk_memory: true, threads: true });
  try {
    return Buffer.from(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

export function moduleSource(bytes) {
  return `// Generated by scripts/romix-wasm.mjs from its WAT source: do not edit. scrypt's ROMix (salsa20/8,
// 128-bit SIMD, shared memory), ${bytes.length} bytes.
export const ROMIX_WASM = '${bytes.toString('base64')}';
`;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const source = moduleSource(await assembleRomix());
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== source) {
      console.error('packages/supply-chain/src/romix-wasm.ts is stale: run node scripts/romix-wasm.mjs');
      process.exit(1);
    }
    console.log('romix-wasm.ts matches its source');
  } else {
    writeFileSync(target, source);
    console.log(`wrote ${target.pathname}`);
  }
}
