// Bundles each action's src/main.ts into actions/<name>/dist/index.js (committed: the runner runs it as is).
// esbuild rather than @vercel/ncc: ncc 0.45's TypeScript loader breaks on current TypeScript, and its
// bundle of the same code was 10x larger and slower to start (see ../shared/PLATFORM-NOTES.md).
//   node scripts/bundle.mjs           write dist/
//   node scripts/bundle.mjs --check   fail when a committed dist/ differs from a fresh bundle
import { build } from 'esbuild';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const actions = (await readdir(join(root, 'actions'))).filter((name) => existsSync(join(root, 'actions', name, 'src', 'main.ts')));
const scratch = check ? await mkdtemp(join(tmpdir(), 'bundle-check-')) : undefined;
const stale = [];

for (const name of actions.sort()) {
  const outdir = scratch ? join(scratch, name) : join(root, 'actions', name, 'dist');
  const result = await build({
    entryPoints: [join(root, 'actions', name, 'src', 'main.ts')],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    // Some CommonJS dependencies call require(); ESM output needs one defined.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  if (check) {
    for (const file of ['index.js', 'index.js.LEGAL.txt']) {
      const fresh = await readFile(join(outdir, file), 'utf8').catch(() => '');
      const committed = await readFile(join(root, 'actions', name, 'dist', file), 'utf8').catch(() => '');
      if (fresh !== committed) stale.push(`actions/${name}/dist/${file}`);
    }
  } else {
    console.log(`actions/${name}/dist/index.js  ${(bytes / 1024).toFixed(0)} KiB`);
  }
}
if (scratch) await rm(scratch, { recursive: true, force: true });
if (stale.length > 0) {
  console.error(`stale bundles (run 'npm run bundle' and commit):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
if (check) console.log(`bundles fresh: ${actions.length} action(s)`);
