// One table of every benchmark's result (ours against its baseline, each measured in one run), written
// as bench/results/summary.json, and the plot of deploy time against replicas as an SVG image.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/report.ts        (bench/run.sh runs it last)   (or all: bash bench/run.sh)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlipResult } from './flips.ts';

const dir = join(new URL('..', import.meta.url).pathname, 'bench/results');
const read = <T>(name: string): T | undefined =>
  existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), 'utf8')) as T) : undefined;

interface Row {
  benchmark: string;
  ours: string;
  baseline: string;
  ratio?: number;
  note?: string;
}
const rows: Row[] = [];
const s = (seconds: number) => `${seconds.toFixed(3)} s`;

const build = read<{ rawMedianSeconds: number; oursMedianSeconds: number; ratio: number; runs: number }>(
  'build-image.json',
);
if (build)
  rows.push({
    benchmark: 'build-image ÷ docker buildx build --push',
    ours: s(build.oursMedianSeconds),
    baseline: s(build.rawMedianSeconds),
    ratio: build.ratio,
    note: `median of ${build.runs}`,
  });

const buildkit = read<{
  runs: number;
  onePlatform: { rawMedianSeconds: number; oursMedianSeconds: number; ratio: number };
  multiPlatform: {
    qemuMedianSeconds: number;
    matrixMedianSeconds: number;
    ratio: number;
    nativeRunnersEstimateSeconds: number;
    nativeRatioEstimate: number;
  };
}>('buildkit.json');
if (buildkit) {
  rows.push({
    benchmark: 'build-image ÷ docker buildx build --push (BuildKit v0.34, remote driver)',
    ours: s(buildkit.onePlatform.oursMedianSeconds),
    baseline: s(buildkit.onePlatform.rawMedianSeconds),
    ratio: buildkit.onePlatform.ratio,
    note: `median of ${buildkit.runs}; one platform, default provenance`,
  });
  rows.push({
    benchmark: 'per-arch matrix + merge ÷ one QEMU multi-platform build',
    ours: s(buildkit.multiPlatform.matrixMedianSeconds),
    baseline: s(buildkit.multiPlatform.qemuMedianSeconds),
    ratio: buildkit.multiPlatform.ratio,
    note: `both arm64 builds under QEMU here; with native arm64 runners ≈ ${s(buildkit.multiPlatform.nativeRunnersEstimateSeconds)} (${buildkit.multiPlatform.nativeRatioEstimate})`,
  });
}

const sign = read<{
  comparisons: {
    name: string;
    baselineName: string;
    baselineMedianSeconds: number;
    oursMedianSeconds: number;
    ratio: number;
    runs: number;
  }[];
}>('sbom-and-sign.json');
for (const c of sign?.comparisons ?? [])
  rows.push({
    benchmark: `sbom-and-sign (${c.name}) ÷ ${c.baselineName}`,
    ours: s(c.oursMedianSeconds),
    baseline: s(c.baselineMedianSeconds),
    ratio: c.ratio,
    note: `median of ${c.runs}`,
  });

const deploy = read<{ results: FlipResult[] }>('bluegreen-deploy.json');
for (const r of deploy?.results ?? [])
  rows.push({
    benchmark: `bluegreen-deploy ÷ kubectl flip, ${r.replicas} replicas`,
    ours: s(r.oursMedianSeconds),
    baseline: s(r.kubectlMedianSeconds),
    ratio: r.ratio,
    note: `API requests ${r.oursRequests} vs ${r.kubectlRequests}; median of ${r.runs}`,
  });

for (const r of read<{ results: FlipResult[] }>('manifests.json')?.results ?? [])
  rows.push({
    benchmark: `bluegreen-deploy of a Kustomize app ÷ kubectl by hand, ${r.replicas} replicas`,
    ours: s(r.oursMedianSeconds),
    baseline: s(r.kubectlMedianSeconds),
    ratio: r.ratio,
    note: `API requests ${r.oursRequests} vs ${r.kubectlRequests}; median of ${r.runs}`,
  });

const rollback = read<{
  kubectlMedianSeconds: number;
  oursToSwitchMedianSeconds: number;
  automaticToSwitchMedianSeconds: number;
  runs: number;
}>('verify-rollback.json');
if (rollback) {
  rows.push({
    benchmark: 'rollback (button, warm colour) ÷ kubectl patch',
    ours: s(rollback.oursToSwitchMedianSeconds),
    baseline: s(rollback.kubectlMedianSeconds),
    ratio: Number((rollback.oursToSwitchMedianSeconds / rollback.kubectlMedianSeconds).toFixed(3)),
    note: `to the switch, from process start; target < 120 s`,
  });
  rows.push({
    benchmark: 'rollback (automatic, after failed analysis)',
    ours: s(rollback.automaticToSwitchMedianSeconds),
    baseline: '-',
    note: 'decision to switch',
  });
}

const cold = read<{
  floorMedianSeconds: number;
  results: { name: string; medianSeconds: number; bundleEntryKiB?: number; bundleTotalKiB?: number; runs: number }[];
}>('cold-start.json');
for (const r of (cold?.results ?? []).filter((x) => x.bundleEntryKiB !== undefined)) {
  rows.push({
    benchmark: `${r.name} cold start ÷ bare node`,
    ours: s(r.medianSeconds),
    baseline: s(cold!.floorMedianSeconds),
    ratio: Number((r.medianSeconds / cold!.floorMedianSeconds).toFixed(2)),
    note: `bundle ${r.bundleEntryKiB} KiB entry, ${r.bundleTotalKiB} KiB with lazy chunks`,
  });
}

const width = Math.max(...rows.map((r) => r.benchmark.length), 9);
console.log(
  `\n${'benchmark'.padEnd(width)}  ${'ours'.padStart(9)}  ${'baseline'.padStart(9)}  ${'ratio'.padStart(6)}  note`,
);
for (const r of rows)
  console.log(
    `${r.benchmark.padEnd(width)}  ${r.ours.padStart(9)}  ${r.baseline.padStart(9)}  ${(r.ratio?.toFixed(3) ?? '-').padStart(6)}  ${r.note ?? ''}`,
  );
writeFileSync(join(dir, 'summary.json'), `${JSON.stringify({ generated: new Date().toISOString(), rows }, null, 2)}\n`);

// The plot: deploy time against replicas, ours and kubectl's, on a log scale of replicas.
if (deploy?.results.length) {
  const points = [...deploy.results].sort((a, b) => a.replicas - b.replicas);
  const [w, h, left, bottom, top, right] = [640, 400, 70, 50, 40, 150];
  // The axis ends at a round number (1, 2 or 5 times a power of ten) above the slowest point.
  const slowest = Math.max(...points.flatMap((p) => [p.oursMedianSeconds, p.kubectlMedianSeconds]));
  const step = 10 ** Math.floor(Math.log10(slowest / 4));
  const maxY = 4 * ([1, 2, 2.5, 5, 10].map((m) => m * step).find((m) => 4 * m >= slowest) ?? 10 * step);
  const logMin = Math.log10(points[0]!.replicas);
  const logMax = Math.log10(points.at(-1)!.replicas);
  const x = (replicas: number) =>
    left + ((Math.log10(replicas) - logMin) / (logMax - logMin || 1)) * (w - left - right);
  const y = (seconds: number) => h - bottom - (seconds / maxY) * (h - bottom - top);
  const line = (pick: (p: FlipResult) => number, colour: string, label: string, dash = '') => [
    `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${points.map((p) => `${x(p.replicas).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ')}"/>`,
    ...points.map(
      (p) =>
        `<circle cx="${x(p.replicas).toFixed(1)}" cy="${y(pick(p)).toFixed(1)}" r="4" fill="${colour}"><title>${label}: ${p.replicas} replicas, ${pick(p)} s</title></circle>`,
    ),
  ];
  const ticks = Array.from({ length: 5 }, (_, i) => (maxY / 4) * i);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">Blue-green deploy time against replicas (median, local kwok cluster)</text>`,
    `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="black"/>`,
    ...ticks.map(
      (t) =>
        `<text x="${left - 8}" y="${y(t) + 4}" text-anchor="end">${Number(t.toFixed(2))}</text><line x1="${left}" y1="${y(t)}" x2="${w - right}" y2="${y(t)}" stroke="#ddd"/>`,
    ),
    ...points.map((p) => `<text x="${x(p.replicas)}" y="${h - bottom + 18}" text-anchor="middle">${p.replicas}</text>`),
    `<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">replicas (log scale)</text>`,
    `<text x="18" y="${(top + h - bottom) / 2}" transform="rotate(-90 18 ${(top + h - bottom) / 2})" text-anchor="middle">seconds</text>`,
    ...line((p) => p.oursMedianSeconds, '#1f6feb', 'bluegreen-deploy'),
    ...line((p) => p.kubectlMedianSeconds, '#d1242f', 'kubectl', '6 4'),
    `<line x1="${w - right + 15}" y1="${top + 10}" x2="${w - right + 40}" y2="${top + 10}" stroke="#1f6feb" stroke-width="2"/><text x="${w - right + 45}" y="${top + 14}">bluegreen-deploy</text>`,
    `<line x1="${w - right + 15}" y1="${top + 30}" x2="${w - right + 40}" y2="${top + 30}" stroke="#d1242f" stroke-width="2" stroke-dasharray="6 4"/><text x="${w - right + 45}" y="${top + 34}">kubectl flip</text>`,
    '</svg>',
  ].join('\n');
  writeFileSync(join(dir, 'deploy-vs-replicas.svg'), `${svg}\n`);
  console.log(`\nplot: bench/results/deploy-vs-replicas.svg; table: bench/results/summary.json`);
}
