// Runs the reusable workflows for real under act (nektos/act, built from its Go module) on the host
// (-P ubuntu-latest=-self-hosted), called from a scratch "user repository" the way users call them, with
// the suite mapped to this checkout (--local-repository) and secrets from a secrets file. Used by the
// workflow tests and by the main job (scripts/demo.ts).
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { repoRoot } from './action-runner.js';
import { captureRun } from './capture.js';

export interface ActRun {
  code: number;
  /** act's log as its text mode prints it: `[workflow/job] message`, step output as `[workflow/job]   | line`. */
  log: string;
  /** Each job's result (success, failure, skipped), by act's job name (`release/release/staging`). */
  jobs: Record<string, string>;
  /** What the steps wrote to $GITHUB_STEP_SUMMARY, in order. */
  summaries: { job: string; step: string; content: string }[];
}

/** The release workflow's jobs, as act names them, when a version went all the way to production. */
export const RELEASED = {
  'release/release/build': 'success',
  'release/release/sign': 'success',
  'release/release/staging': 'success',
  'release/release/production': 'success',
};

export interface ActOptions {
  event: string;
  workflow: string;
  payload: unknown;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Where the local upload-artifact stand-in keeps what would be uploaded. */
  artifacts: string;
  /** The runner's environment beyond act's own (HTTPS_PROXY of a proxy-only runner): act on the host passes it to every step. */
  env?: Record<string, string>;
}

function git(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    spawn('git', args, { cwd, stdio: 'ignore' }).on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`git ${args.join(' ')} failed`)),
    ),
  );
}

/** A user's repository: their app, their caller workflows, their GitHub remote (act reads the name from it). */
export async function createUserRepo(
  dir = mkdtempSync(join(tmpdir(), 'user-repo-')),
  options: { realApp?: boolean } = {},
): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '.github/workflows'), { recursive: true });
  // realApp: the test app as a real service (test/fixtures/real-app, its server binary committed beside
  // the Dockerfile, as a user's build output would be) with its pod spec for the real node.
  cpSync(join(repoRoot, options.realApp ? 'test/fixtures/real-app' : 'test/fixtures/app'), join(dir, 'app'), {
    recursive: true,
  });
  if (options.realApp) copyFileSync(process.env.DEPLOY_SUITE_APP_SERVER!, join(dir, 'app/server'));
  cpSync(join(repoRoot, 'test/fixtures/workflows'), join(dir, '.github/workflows'), { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/cosign/cosign.pub'), join(dir, 'cosign.pub'));
  await git(['init', '-q', '-b', 'trunk'], dir);
  await git(['remote', 'add', 'origin', 'https://github.com/acme/shop-api.git'], dir);
  await commit(dir, 'app');
  return dir;
}

/** Commits a change to the user's repository (a new commit makes a new image). */
export async function commit(repo: string, message: string, files: Record<string, string> = {}): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  await git(['add', '-A'], repo);
  await git(['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-qm', message], repo);
}

interface ActLine {
  msg?: string;
  job?: string;
  raw_output?: boolean;
  jobResult?: string;
  command?: string;
  content?: string;
  step?: string;
}

/** Runs act in the user repository; resolves with its exit code, log, job results and step summaries. */
export function runAct(repo: string, options: ActOptions): Promise<ActRun> {
  const dir = mkdtempSync(join(tmpdir(), 'act-'));
  writeFileSync(join(dir, 'event.json'), JSON.stringify(options.payload));
  writeFileSync(
    join(dir, 'secrets'),
    Object.entries(options.secrets ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  const args = [
    options.event,
    '-W',
    `.github/workflows/${options.workflow}`,
    '-P',
    'ubuntu-latest=-self-hosted',
    '--json',
    '--local-repository',
    `acme/deploy-suite@v1=${repoRoot}`,
    // GitHub's artifact service cannot run here: local stand-ins keep what would be uploaded and hand it
    // back. setup-buildx's docker-container driver cannot start here: its stand-in gives the platform's
    // BuildKit (remote driver).
    '--local-repository',
    `actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02=${join(repoRoot, 'test/fixtures/actions/upload-artifact')}`,
    '--local-repository',
    `actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093=${join(repoRoot, 'test/fixtures/actions/download-artifact')}`,
    '--local-repository',
    `docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435=${join(repoRoot, 'test/fixtures/actions/setup-buildx')}`,
    '--secret-file',
    join(dir, 'secrets'),
    '-e',
    join(dir, 'event.json'),
    ...Object.entries(options.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
  ];
  const cache = process.env.DEPLOY_SUITE_CACHE!;
  const env = {
    ...process.env,
    ...options.env,
    ACT_DISABLE_VERSION_CHECK: '1',
    DEPLOY_SUITE_ARTIFACTS: options.artifacts,
    // The suite's node and docker plugins; not the platform's syft and trivy: the workflows install those.
    PATH: `${cache}/bin:${process.env.PATH}`,
  };
  // act copies the workspace and each --local-repository (this checkout: 3–4 GB with node_modules and
  // .tmp) into a folder of its cache per run and never removes it: 26 runs filled a 56 GB disk. What a
  // run adds there is removed when it ends; the tool cache, shared by every run as on a runner, stays.
  const actCache = join(options.env?.XDG_CACHE_HOME ?? process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'act');
  const before = new Set(existsSync(actCache) ? readdirSync(actCache) : []);
  const removeRunFolders = () => {
    if (!existsSync(actCache)) return;
    for (const name of readdirSync(actCache))
      if (!before.has(name) && name !== 'tool_cache') rmSync(join(actCache, name), { recursive: true, force: true });
  };
  return new Promise((resolve) => {
    const child = spawn(process.env.DEPLOY_SUITE_ACT!, args, { cwd: repo, env });
    const run: ActRun = { code: 1, log: '', jobs: {}, summaries: [] };
    let pending = '';
    const take = (line: string) => {
      if (!line.trim()) return;
      let entry: ActLine;
      try {
        entry = JSON.parse(line) as ActLine;
      } catch {
        run.log += `${line}\n`; // not act's JSON (a crash, a Go panic): keep it as it is
        return;
      }
      const job = entry.job?.trim(); // act pads job names to align its columns
      const prefix = job ? `[${job}] ` : '';
      const text = (entry.msg ?? '').replace(/\n$/, '');
      run.log += entry.raw_output
        ? text
            .split('\n')
            .map((l) => `${prefix}  | ${l}\n`)
            .join('')
        : `${prefix}${text}\n`;
      if (job && entry.jobResult) run.jobs[job] = entry.jobResult;
      if (entry.command === 'summary' && entry.content)
        run.summaries.push({ job: job ?? '', step: entry.step ?? '', content: entry.content });
    };
    const onData = (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      lines.forEach(take);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      take(pending);
      run.code = code ?? 1;
      rmSync(dir, { recursive: true, force: true });
      removeRunFolders();
      // Every run's log is kept for a person to read when an assertion fails (CI keeps .tmp/).
      mkdirSync(join(repoRoot, '.tmp/act'), { recursive: true });
      writeFileSync(
        join(repoRoot, '.tmp/act', `${basename(repo)}-${options.workflow.replace(/\.yml$/, '')}-${Date.now()}.log`),
        run.log,
      );
      // act masks secrets and ::add-mask:: values in its log as the runner does; summaries are not masked.
      captureRun(`act-${options.workflow}`, {
        shown: [run.log],
        unmasked: run.summaries.map((s) => s.content),
        secrets: Object.values(options.secrets ?? {}).map((v) => v.replace(/^"(.*)"$/s, '$1').replace(/\\n/g, '\n')),
      });
      resolve(run);
    });
  });
}
