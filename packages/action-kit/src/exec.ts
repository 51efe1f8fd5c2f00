import { spawn } from 'node:child_process';

// What a tool the suite runs may see of the action's environment: the system's basics, the runner's
// proxy and CA settings, and the variables of the tools themselves. Never INPUT_* (the action's inputs:
// keys, passwords, kubeconfigs), nor the runner's tokens (ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_*,
// GITHUB_TOKEN), nor any other variable a workflow put in the step's env. A caller hands a tool more by
// `extra`, by name and for its reason (buildx gets the runner's cache token for type=gha: gha-cache.ts).
const PASSED_TO_TOOLS = new RegExp(
  '^(?:' +
    [
      'PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|TEMP|TMP|XDG_[A-Z_]+',
      'RUNNER_TEMP|RUNNER_TOOL_CACHE|RUNNER_OS|RUNNER_ARCH|CI|GITHUB_ACTIONS',
      '(?:HTTPS?|NO|ALL)_PROXY|(?:https?|no|all)_proxy|SSL_CERT_FILE|SSL_CERT_DIR',
      // docker, buildx and BuildKit's own; syft's and trivy's configuration variables.
      'DOCKER_[A-Z_]+|BUILDX_[A-Z_]+|BUILDKIT_[A-Z_]+|SYFT_[A-Z0-9_]+|TRIVY_[A-Z0-9_]+',
      // Cloud registries: what the credential helpers (docker-credential-ecr-login, -gcloud, -acr-env) and
      // the scanners read, set by the user's own login step (aws-actions/configure-aws-credentials, …).
      'AWS_[A-Z0-9_]+|GOOGLE_APPLICATION_CREDENTIALS|CLOUDSDK_[A-Z0-9_]+|AZURE_[A-Z0-9_]+',
      // buildx's --ssh default forwards the runner's agent.
      'SSH_AUTH_SOCK',
    ].join('|') +
    ')$',
);

/**
 * The environment a child process gets: the passed subset of `from` (the action's own by default), then
 * `extra` (what the caller means the tool to have, e.g. DOCKER_CONFIG or a build secret it names).
 */
export function toolEnvironment(
  extra: NodeJS.ProcessEnv = {},
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && PASSED_TO_TOOLS.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

export interface ExecOptions {
  /** Written to the child's stdin, then closed: how passwords reach `docker login`. */
  input?: string;
  /** Variables the tool needs beyond the passed basics (toolEnvironment): never the whole process.env. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stream the child's output to the log as it comes (default true). */
  stream?: boolean;
  /** Called with each line of stderr, e.g. to follow a tool's progress. */
  onStderrLine?: (line: string) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a tool and collects its output; never throws for a non-zero exit (callers decide what a
 * failure means). The command line is echoed as the runner does; secrets never go in arguments.
 */
export function execTool(command: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const stream = options.stream ?? true;
  if (stream) process.stdout.write(`[command]${command} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: toolEnvironment(options.env),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (stream) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (stream) process.stdout.write(chunk);
      if (options.onStderrLine) {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) options.onStderrLine(line);
      }
    });
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (partial && options.onStderrLine) options.onStderrLine(partial);
      resolve({
        exitCode: code ?? 1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // A tool that exits without reading its input closes the pipe first: EPIPE says nothing about the
    // tool's outcome (its exit code does), so it is not an error of the run.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(new Error(`cannot write to ${command}: ${error.message}`));
    });
    child.stdin.end(options.input ?? '');
  });
}
