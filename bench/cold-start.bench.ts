// Each action's cold start: `node dist/index.js` (Node 24, as the runner starts it) until its first
// request to the outside world, against bare Node doing nothing but that first connection (the floor no
// action can beat). The outside world is a TCP listener that notes when the connection arrives; for
// build-image, whose first act is to run docker, a `docker` on PATH that notes when it is run. Also each
// action's bundle size (entry file and lazily loaded chunks). Interleaved, medians.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/cold-start.bench.ts [runs]   (or all: bash bench/run.sh)
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/action-runner.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 7);
const node = process.env.DEPLOY_SUITE_NODE24 || process.execPath;
const scratch = mkdtempSync(join(tmpdir(), 'bench-cold-'));
const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');

// The first connection's arrival, in this process's clock.
let arrived: (() => void) | undefined;
const listener = createServer((socket) => {
  arrived?.();
  socket.destroy();
});
await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
const port = (listener.address() as AddressInfo).port;
const target = `127.0.0.1:${port}`;

// build-image's first act is to run docker: a stand-in docker (bash, a millisecond) connects and stops.
const shimDir = join(scratch, 'bin');
mkdirSync(shimDir);
writeFileSync(join(shimDir, 'docker'), `#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/${port}\nexit 1\n`);
chmodSync(join(shimDir, 'docker'), 0o755);
const kubeconfig = `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://${target}"}}]\nusers: [{name: u, user: {token: bench-token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`;
const digest = `sha256:${'ab'.repeat(32)}`;

const subjects: Record<string, { args: string[]; env: Record<string, string> }> = {
  'node (floor)': { args: ['-e', `require('net').connect(${port}, '127.0.0.1')`], env: {} },
  'build-image': {
    args: [join(repoRoot, 'actions/build-image/dist/index.js')],
    env: {
      INPUT_IMAGE: `${target}/bench/app`,
      INPUT_CONTEXT: 'test/fixtures/app',
      PATH: `${shimDir}:${process.env.PATH}`,
    },
  },
  'sbom-and-sign': {
    args: [join(repoRoot, 'actions/sbom-and-sign/dist/index.js')],
    env: {
      INPUT_IMAGE: `${target}/bench/app@${digest}`,
      'INPUT_COSIGN-PRIVATE-KEY': cosignKey,
      'INPUT_COSIGN-PASSWORD': 'fixture-password',
      INPUT_SCAN: 'false',
      INPUT_SBOM: 'false',
      'INPUT_ATTEST-SBOM': 'none',
    },
  },
  'bluegreen-deploy': {
    args: [join(repoRoot, 'actions/bluegreen-deploy/dist/index.js')],
    env: {
      INPUT_KUBECONFIG: kubeconfig,
      INPUT_NAMESPACE: 'bench',
      INPUT_APP: 'shop',
      INPUT_IMAGE: `${target}/bench/app@${digest}`,
    },
  },
  'verify-rollback': {
    args: [join(repoRoot, 'actions/verify-rollback/dist/index.js')],
    env: { INPUT_KUBECONFIG: kubeconfig, INPUT_NAMESPACE: 'bench', INPUT_APP: 'shop', 'INPUT_ROLLBACK-TO': 'previous' },
  },
};

/** Seconds from spawn to the first connection (the process is then stopped). */
function coldStart(name: string): Promise<number> {
  const { args, env } = subjects[name]!;
  const runnerEnv = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    GITHUB_WORKSPACE: repoRoot,
    GITHUB_OUTPUT: join(scratch, 'output'),
    GITHUB_STEP_SUMMARY: join(scratch, 'summary'),
    RUNNER_TEMP: scratch,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_API_URL: `http://${target}`,
    ...env,
  };
  writeFileSync(join(scratch, 'output'), '');
  writeFileSync(join(scratch, 'summary'), '');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(node, args, { cwd: repoRoot, env: runnerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const timer = setTimeout(
      () => reject(new Error(`${name} made no request within 10 s:\n${log.slice(-1500)}`)),
      10_000,
    );
    arrived = () => {
      arrived = undefined;
      clearTimeout(timer);
      resolve((performance.now() - started) / 1000);
      child.kill('SIGKILL');
    };
    child.on('close', () => {
      if (arrived) {
        clearTimeout(timer);
        reject(new Error(`${name} exited before any request:\n${log.slice(-1500)}`));
      }
    });
  });
}

function bundleBytes(action: string): { entry: number; total: number } {
  const dist = join(repoRoot, 'actions', action, 'dist');
  const files = readdirSync(dist, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.js') || f.endsWith('.mjs') || f.endsWith('.cjs'));
  return {
    entry: statSync(join(dist, 'index.js')).size,
    total: files.reduce((sum, f) => sum + statSync(join(dist, f)).size, 0),
  };
}

const names = Object.keys(subjects);
const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const name of names) await coldStart(name); // warm the page cache once each
for (let i = 0; i < runs; i++) {
  // Rotating order, so no subject always runs after the same neighbour.
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length]!;
    samples[name]!.push(await coldStart(name));
  }
}
listener.close();

const floor = median(samples['node (floor)']!);
const results = names.map((name) => {
  const seconds = median(samples[name]!);
  const bundle = name.startsWith('node') ? undefined : bundleBytes(name);
  return {
    name,
    runs,
    medianSeconds: Number(seconds.toFixed(3)),
    overFloorSeconds: Number((seconds - floor).toFixed(3)),
    ...(bundle
      ? { bundleEntryKiB: Math.round(bundle.entry / 1024), bundleTotalKiB: Math.round(bundle.total / 1024) }
      : {}),
    samples: samples[name],
  };
});
console.log('\naction              cold start (s)   over bare node (s)   bundle entry / total (KiB)');
for (const r of results) {
  console.log(
    `${r.name.padEnd(18)}  ${r.medianSeconds.toFixed(3).padStart(14)}   ${r.overFloorSeconds.toFixed(3).padStart(18)}   ${'bundleEntryKiB' in r ? `${r.bundleEntryKiB} / ${r.bundleTotalKiB}` : '-'}`,
  );
}
console.log(
  '(cold start: spawn of node dist/index.js until its first connection out; the floor is node itself connecting)',
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, 'bench/results/cold-start.json'),
  `${JSON.stringify({ benchmark: 'cold start until the first request, and bundle size', node: process.version, floorMedianSeconds: Number(floor.toFixed(3)), results }, null, 2)}\n`,
);
