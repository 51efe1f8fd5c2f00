// vegeta (github.com/tsenart/vegeta, built by the platform) as the load the traffic tests run: a fixed
// rate for a fixed duration against one URL, bounded by both, and its JSON report read back: requests,
// status codes, errors and latency percentiles. Keep-alive on, as real clients keep their connections.
import { spawn } from 'node:child_process';

export interface VegetaReport {
  requests: number;
  /** Responses by status code ("0": no response at all: refused, reset, timeout). */
  status_codes: Record<string, number>;
  errors: string[];
  success: number;
  latencies: { mean: number; '50th': number; '95th': number; '99th': number; max: number };
}

export interface Attack {
  /** Resolves when the attack has ended, with vegeta's report. */
  done: Promise<VegetaReport>;
  /** Ends the attack before its duration (vegeta stops on SIGINT and reports what it sent). */
  stop: () => Promise<VegetaReport>;
}

/** Starts an attack at `rate` requests a second for `seconds` against `url`. */
export function attack(url: string, rate: number, seconds: number, options: { keepalive?: boolean } = {}): Attack {
  const vegeta = process.env.DEPLOY_SUITE_VEGETA!;
  const attacker = spawn(
    vegeta,
    ['attack', `-rate=${rate}/s`, `-duration=${seconds}s`, '-timeout=5s', `-keepalive=${options.keepalive ?? true}`],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const reporter = spawn(vegeta, ['report', '-type=json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  attacker.stdin.end(`GET ${url}\n`);
  attacker.stdout.pipe(reporter.stdin);
  let err = '';
  attacker.stderr.on('data', (c: Buffer) => (err += c.toString()));
  reporter.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<VegetaReport>((resolve, reject) => {
    let out = '';
    reporter.stdout.on('data', (c: Buffer) => (out += c.toString()));
    reporter.on('close', (code) => {
      if (code !== 0) return reject(new Error(`vegeta report exited with ${code}: ${err}`));
      const report = JSON.parse(out) as VegetaReport;
      resolve({ ...report, errors: report.errors ?? [] });
    });
  });
  return {
    done,
    stop: () => {
      if (attacker.exitCode === null) attacker.kill('SIGINT');
      return done;
    },
  };
}

/** The report in one line for a failure message or the bench: requests, codes, p99. */
export function summarize(report: VegetaReport): string {
  return `${report.requests} requests, codes ${JSON.stringify(report.status_codes)}, p99 ${(report.latencies['99th'] / 1e6).toFixed(1)} ms, errors ${JSON.stringify(report.errors.slice(0, 3))}`;
}
