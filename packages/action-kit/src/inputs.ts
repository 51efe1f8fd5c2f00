import { InputError, type InputProblem } from './errors.js';
import { maskSecret } from './secrets.js';
import { parseDotenv } from './dotenv.js';

/** Where raw input values come from: the runner's INPUT_* variables by default, a map in tests. */
export type InputSource = (name: string) => string | undefined;

export const runnerInputs: InputSource = (name) => process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];

const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);

/**
 * Reads and validates an action's inputs. Every reader records a problem instead of throwing, so that
 * `done()` reports all invalid inputs in one error, before the action touches anything.
 */
export class InputReader {
  private readonly problems: InputProblem[] = [];

  constructor(private readonly source: InputSource = runnerInputs) {}

  /** The raw trimmed value, '' when unset. */
  raw(name: string): string {
    return (this.source(name) ?? '').trim();
  }

  problem(input: string, problem: string, fix: string): void {
    this.problems.push({ input, problem, fix });
  }

  string(name: string, options: { required?: boolean; default?: string } = {}): string {
    const value = this.raw(name);
    if (value === '' && options.required) {
      this.problem(name, 'is required but empty', `set '${name}' in the step's 'with:'`);
    }
    return value === '' ? (options.default ?? '') : value;
  }

  boolean(name: string, defaultValue: boolean): boolean {
    const value = this.raw(name);
    if (value === '') return defaultValue;
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
    this.problem(name, `'${value}' is not a boolean`, `use true or false`);
    return defaultValue;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], defaultValue: T): T {
    const value = this.raw(name);
    if (value === '') return defaultValue;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(name, `'${value}' is not one of ${allowed.join(', ')}`, `use one of ${allowed.join(', ')}`);
    return defaultValue;
  }

  /** Newline- or comma-separated values (as build-push-action reads lists); blank lines and # comments dropped. */
  list(name: string, options: { separators?: 'newline' | 'newline-or-comma' } = {}): string[] {
    return splitList(this.raw(name), options.separators ?? 'newline-or-comma');
  }

  /** `KEY=value` lines; a line without '=' or with an empty key is a problem. */
  keyValues(name: string): Map<string, string> {
    const result = new Map<string, string>();
    for (const line of splitList(this.raw(name), 'newline')) {
      const eq = line.indexOf('=');
      if (eq <= 0) {
        this.problem(name, `line '${redactValue(line)}' is not KEY=value`, `write one KEY=value per line`);
        continue;
      }
      result.set(line.slice(0, eq).trim(), line.slice(eq + 1));
    }
    return result;
  }

  /**
   * Secret settings as dotenv text (parseDotenv): every value masked before anything can print it, a
   * problem for each malformed line, named by number and never by its value.
   */
  dotenv(name: string): Map<string, string> {
    const { entries, problems } = parseDotenv(this.raw(name));
    for (const value of entries.values()) maskSecret(value);
    for (const problem of problems)
      this.problem(name, problem, 'write one KEY=value a line (values may be quoted; # starts a comment)');
    return entries;
  }

  positiveInt(name: string, defaultValue: number): number {
    const value = this.raw(name);
    if (value === '') return defaultValue;
    if (!/^[0-9]+$/.test(value) || Number(value) <= 0) {
      this.problem(name, `'${value}' is not a positive whole number`, `use a number such as ${defaultValue}`);
      return defaultValue;
    }
    return Number(value);
  }

  /** A duration in milliseconds: `90` (seconds), `500ms`, `90s`, `5m` or `1h`. */
  durationMs(name: string, defaultMs: number): number {
    const value = this.raw(name);
    if (value === '') return defaultMs;
    const match = /^([0-9]+)(ms|s|m|h)?$/.exec(value);
    if (!match || Number(match[1]) === 0) {
      this.problem(name, `'${value}' is not a duration`, 'use seconds (90), or 500ms, 90s, 5m, 1h');
      return defaultMs;
    }
    return Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'] ?? 1000);
  }

  /** A duration in whole seconds (rounded up): `90`, `90s`, `5m` or `1h`. */
  durationSeconds(name: string, defaultSeconds: number): number {
    return Math.ceil(this.durationMs(name, defaultSeconds * 1000) / 1000);
  }

  /** Throws one InputError naming every problem recorded so far. */
  done(): void {
    if (this.problems.length > 0) throw new InputError([...this.problems]);
  }
}

export function splitList(value: string, separators: 'newline' | 'newline-or-comma'): string[] {
  const lines = value.split(/\r?\n/);
  const items = separators === 'newline' ? lines : lines.flatMap((line) => splitCommas(line));
  return items.map((item) => item.trim()).filter((item) => item !== '' && !item.startsWith('#'));
}

// Commas inside double quotes do not split ("a,b" stays one item), as in build-push-action's CSV lists.
function splitCommas(line: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') {
      quoted = !quoted;
      continue;
    }
    if (ch === ',' && !quoted) {
      items.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  items.push(current);
  return items;
}

// Values in KEY=value inputs may be secrets: show only the key in errors.
function redactValue(line: string): string {
  return line.length > 24 ? `${line.slice(0, 12)}…` : line;
}

/**
 * `registry-username` and `registry-password` (masked at once), both or neither: the credentials an action
 * reads a registry with. Undefined when neither is given (the runner's docker credentials then apply).
 */
export function readRegistryCredentials(reader: InputReader): { username: string; password: string } | undefined {
  const password = reader.raw('registry-password');
  maskSecret(password);
  const username = reader.string('registry-username');
  if (username && !password)
    reader.problem(
      'registry-password',
      'is empty while registry-username is set',
      'pass the registry password or token from a secret',
    );
  if (password && !username)
    reader.problem('registry-username', 'is empty while registry-password is set', 'give the registry username');
  return username && password ? { username, password } : undefined;
}

/**
 * `insecure-registries`: registries (host or host:port) reached over plain HTTP, as docker's
 * insecure-registries names them, for a lab registry without TLS. Any other host is TLS only; loopback
 * always speaks plain HTTP, as docker assumes.
 */
export function readInsecureRegistries(reader: InputReader): string[] {
  const hosts = reader.list('insecure-registries');
  for (const host of hosts) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/i.test(host) && !/^\[[0-9a-f:]+\](:[0-9]{1,5})?$/i.test(host))
      reader.problem(
        'insecure-registries',
        `'${host}' is not a registry host`,
        'give host or host:port, without http:// or a path (e.g. harbor.lab:8080)',
      );
  }
  return hosts;
}
