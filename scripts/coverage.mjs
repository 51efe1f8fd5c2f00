// Line coverage of packages/*/src and actions/*/src over the whole test run: the tests' own process
// (jest's V8 coverage, JSON) plus every action process the tests started (NODE_V8_COVERAGE of the
// source-mapped bundles, scripts/bundle.mjs --coverage), merged, per package and in total.
//   node scripts/coverage.mjs DIR     DIR holds jest/coverage-final.json, v8/*.json and dist/
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeProcessCovs } from '@bcoe/v8-coverage';
import v8toIstanbul from 'v8-to-istanbul';
import libCoverage from 'istanbul-lib-coverage';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/coverage.mjs DIR');
const ours = (path) => /^(packages|actions)\/[^/]+\/src\//.test(relative(root, path));
const map = libCoverage.createCoverageMap({});

// The tests' process.
const jestFile = join(dir, 'jest/coverage-final.json');
if (existsSync(jestFile)) map.merge(JSON.parse(readFileSync(jestFile, 'utf8')));

// The action processes: merged per script first (hundreds of runs, one conversion per bundle file).
const v8dir = join(dir, 'v8');
const distUrl = `file://${join(dir, 'dist')}/`;
const processes = existsSync(v8dir)
  ? readdirSync(v8dir).map((file) => {
      const coverage = JSON.parse(readFileSync(join(v8dir, file), 'utf8'));
      return { result: coverage.result.filter((script) => script.url.startsWith(distUrl)) };
    })
  : [];
const merged = processes.length ? mergeProcessCovs(processes) : { result: [] };
for (const script of merged.result) {
  const path = fileURLToPath(script.url);
  const mapPath = `${path}.map`;
  if (!existsSync(mapPath)) continue;
  const sourcemap = JSON.parse(readFileSync(mapPath, 'utf8'));
  const converter = v8toIstanbul(path, 0, { source: readFileSync(path, 'utf8'), sourceMap: { sourcemap } });
  await converter.load();
  converter.applyCoverage(script.functions);
  const data = converter.toIstanbul();
  for (const [file, fileCoverage] of Object.entries(data)) if (ours(file)) map.merge({ [file]: fileCoverage });
}

// Per package: lines covered of lines known.
const groups = new Map();
for (const file of map.files()) {
  const group = relative(root, file).split('/').slice(0, 2).join('/');
  const lines = map.fileCoverageFor(file).getLineCoverage();
  const entry = groups.get(group) ?? { covered: 0, total: 0 };
  for (const hits of Object.values(lines)) {
    entry.total++;
    if (hits > 0) entry.covered++;
  }
  groups.set(group, entry);
}
const rows = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
const total = rows.reduce((t, [, e]) => ({ covered: t.covered + e.covered, total: t.total + e.total }), {
  covered: 0,
  total: 0,
});
const pct = (e) => (e.total ? (100 * e.covered) / e.total : 100);
console.log(`${'line coverage'.padEnd(28)} ${'lines'.padStart(11)}  percent`);
for (const [group, e] of rows)
  console.log(`${group.padEnd(28)} ${`${e.covered}/${e.total}`.padStart(11)}  ${pct(e).toFixed(1).padStart(6)} %`);
console.log(
  `${'total'.padEnd(28)} ${`${total.covered}/${total.total}`.padStart(11)}  ${pct(total).toFixed(1).padStart(6)} %  (${processes.length} action runs merged with the tests' own process)`,
);
writeFileSync(join(dir, 'coverage-final.json'), JSON.stringify(map.toJSON()));
writeFileSync(
  join(dir, 'summary.json'),
  `${JSON.stringify({ total: { ...total, percent: Number(pct(total).toFixed(1)) }, groups: Object.fromEntries(rows.map(([g, e]) => [g, { ...e, percent: Number(pct(e).toFixed(1)) }])) }, null, 2)}\n`,
);
