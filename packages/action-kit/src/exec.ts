import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Written to the child's stdin, then closed: how passwords reach `docker login`. */
  input?: string;
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
      env: options.env ?? process.env,
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
    child.stdin.end(options.input ?? '');
  });
}
