// Writes docs/grafana/release-kpis.json, the Grafana dashboard of the release KPIs, from its typed source
// (packages/kube/src/kpi-dashboard.ts: Grafana's dashboard schema types it). The source is bundled in
// memory with esbuild, as the actions are, and run.
//   node scripts/grafana-dashboard.mjs           write the file
//   node scripts/grafana-dashboard.mjs --check   fail when the committed file differs
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const target = join(root, 'docs/grafana/release-kpis.json');
const bundle = await build({
  entryPoints: [join(root, 'packages/kube/src/kpi-dashboard.ts')],
  bundle: true,
  write: false,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  logLevel: 'warning',
});
const module = await import(
  `data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString('base64')}`
);
const text = `${JSON.stringify(module.kpiDashboard(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error('stale docs/grafana/release-kpis.json (run node scripts/grafana-dashboard.mjs and commit)');
    process.exit(1);
  }
  console.log('dashboard fresh: docs/grafana/release-kpis.json');
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
  console.log(`wrote ${target.slice(root.length)}`);
}
