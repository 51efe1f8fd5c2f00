import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_INPUT, captureRun } from './capture.js';
import { displayedLog } from './secret-scan.js';

export const repoRoot = new URL('../../', import.meta.url).pathname;

export interface EventFixture {
  eventName: string;
  ref: string;
  sha: string;
  repository: string;
  payload: Record<string, unknown>;
}

export async function loadEvent(name: string): Promise<EventFixture> {
  return JSON.parse(await readFile(join(repoRoot, 'test/fixtures/events', `${name}.json`), 'utf8')) as EventFixture;
}

export interface ActionRun {
  exitCode: number;
  /** Everything the action printed, stdout and stderr interleaved. */
  log: string;
  /** The log as the runner displays it: ::add-mask:: lines consumed, masked values as ***. */
  shown: string;
  outputs: Record<string, string>;
  summary: string;
  seconds: number;
  /** What the action left in RUNNER_TEMP (names at its top), beside the runner's own files. */
  runnerTemp: string[];
}

/** The Node 24 binary the platform installed: the runtime the actions declare. */
export function node24(): string {
  return process.env.DEPLOY_SUITE_NODE24 || process.execPath;
}

/**
 * Runs a bundled action the way the GitHub runner does: `node dist/index.js` with INPUT_* variables,
 * the GITHUB_* context of an event, and files for GITHUB_OUTPUT and GITHUB_STEP_SUMMARY.
 */
export async function runAction(
  action: string,
  inputs: Record<string, string>,
  event: EventFixture,
  extraEnv: Record<string, string> = {},
  options: { killWhenLogShows?: string; whenLogShows?: { text: string; run: () => void } } = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), `run-${action}-`));
  const eventPath = join(dir, 'event.json');
  await writeFile(eventPath, JSON.stringify(event.payload));
  await writeFile(join(dir, 'output'), '');
  await writeFile(join(dir, 'summary'), '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The test command points TMPDIR into the checkout's .tmp, wiped per run; the actions follow it.
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    DOCKER_CONFIG: process.env.DOCKER_CONFIG,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: event.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: event.ref,
    GITHUB_SHA: event.sha,
    GITHUB_REPOSITORY: event.repository,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:1',
    GITHUB_RUN_ID: '1001',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octo-dev',
    GITHUB_WORKSPACE: repoRoot,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    RUNNER_TEMP: dir,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
    ...extraEnv,
  };
  const started = performance.now();
  // Under the test command's coverage, the same bundles with source maps, each run writing V8 coverage.
  const coverage = process.env.DEPLOY_SUITE_COVERAGE;
  if (coverage) env.NODE_V8_COVERAGE = join(coverage, 'v8');
  const entry = coverage
    ? join(coverage, 'dist', action, 'index.js')
    : join(repoRoot, 'actions', action, 'dist', 'index.js');
  const child = spawn(node24(), [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    // Simulates the runner's process dying mid-phase (a cancelled job, a lost machine).
    if (options.killWhenLogShows && log.includes(options.killWhenLogShows)) child.kill('SIGKILL');
    // A fault injected at a point of the run (once), e.g. the API server restarted mid-rollout.
    if (options.whenLogShows && log.includes(options.whenLogShows.text)) {
      const { run } = options.whenLogShows;
      options.whenLogShows = undefined;
      run();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const seconds = (performance.now() - started) / 1000;
  const outputText = await readFile(join(dir, 'output'), 'utf8');
  const summary = await readFile(join(dir, 'summary'), 'utf8');
  const secrets = Object.entries(inputs)
    .filter(([name]) => SECRET_INPUT.test(name))
    .map(([, value]) => value);
  secrets.push(
    ...Object.entries(extraEnv)
      .filter(([name]) => /TOKEN|PASSWORD/.test(name) && !name.endsWith('_URL'))
      .map(([, value]) => value),
  );
  captureRun(action, { shown: [log], unmasked: [summary, outputText], secrets });
  const runnerTemp = (await readdir(dir)).filter((name) => !['event.json', 'output', 'summary'].includes(name)).sort();
  return {
    exitCode,
    log,
    shown: displayedLog(log),
    outputs: parseOutputFile(outputText),
    summary,
    seconds,
    runnerTemp,
  };
}

/** Reads GITHUB_OUTPUT's `name<<delimiter … delimiter` blocks (and plain name=value lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      outputs[name!] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}
