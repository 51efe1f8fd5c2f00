// Bundles each action's src/index.ts into actions/<name>/dist/index.js (committed: the runner runs it as is).
// esbuild rather than @vercel/ncc: ncc 0.45's TypeScript loader breaks on current TypeScript, and its
// bundle of the same code was 10x larger and slower to start (see ../shared/PLATFORM-NOTES.md).
//   node scripts/bundle.mjs           write dist/
//   node scripts/bundle.mjs --check   fail when a committed dist/ differs from a fresh bundle
//   node scripts/bundle.mjs --coverage DIR   the same bundles with source maps into DIR/<action>/, for the
//                                            test command's coverage (the tests then run these)
import { build } from 'esbuild';
import { actionBuildOptions } from './esbuild-options.mjs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const coverageDir = process.argv.includes('--coverage')
  ? process.argv[process.argv.indexOf('--coverage') + 1]
  : undefined;

const actions = (await readdir(join(root, 'actions'))).filter((name) =>
  existsSync(join(root, 'actions', name, 'src', 'index.ts')),
);
const scratch = check ? await mkdtemp(join(tmpdir(), 'bundle-check-')) : undefined;
const stale = [];

if (coverageDir) {
  for (const name of actions.sort()) {
    const options = actionBuildOptions(join(root, 'actions', name, 'src', 'index.ts'), join(coverageDir, name));
    // Not minified: coverage maps lines of the bundle back to the sources, and a minified bundle is one line.
    await build({ ...options, minify: false, sourcemap: 'linked' });
  }
  console.log(`coverage bundles: ${actions.length} action(s) in ${coverageDir}`);
  process.exit(0);
}

for (const name of actions.sort()) {
  const outdir = scratch ? join(scratch, name) : join(root, 'actions', name, 'dist');
  const result = await build(actionBuildOptions(join(root, 'actions', name, 'src', 'index.ts'), outdir));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  if (check) {
    const committedDir = join(root, 'actions', name, 'dist');
    const files = new Set([
      ...(await readdir(outdir)),
      ...(existsSync(committedDir) ? await readdir(committedDir) : []),
    ]);
    for (const file of files) {
      const fresh = await readFile(join(outdir, file), 'utf8').catch(() => '');
      const committed = await readFile(join(root, 'actions', name, 'dist', file), 'utf8').catch(() => '');
      if (fresh !== committed) stale.push(`actions/${name}/dist/${file}`);
    }
  } else {
    // Chunks of earlier bundles that this one no longer names are removed.
    const current = new Set(Object.keys(result.metafile.outputs).map((o) => o.split('/').pop()));
    for (const file of await readdir(outdir)) if (!current.has(file)) await rm(join(outdir, file));
    const entry = result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith('/index.js'))];
    console.log(
      `actions/${name}/dist/index.js  ${(entry.bytes / 1024).toFixed(0)} KiB (all chunks ${(bytes / 1024).toFixed(0)} KiB)`,
    );
  }
}
if (scratch) await rm(scratch, { recursive: true, force: true });
if (stale.length > 0) {
  console.error(`stale bundles (run 'npm run bundle' and commit):\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
if (check) console.log(`bundles fresh: ${actions.length} action(s)`);
