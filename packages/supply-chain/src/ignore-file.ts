import { parse } from 'yaml';

/** One accepted risk: which vulnerability, why, and until when. */
export interface IgnoreEntry {
  id: string;
  /** Only this package; any package when absent. */
  package?: string;
  reason: string;
  /** Last day (UTC) the entry ignores; from the next day on it stops and says so. */
  expires: string;
}

export interface IgnoreFile {
  entries: IgnoreEntry[];
  /** What is wrong with the file, one line per problem; empty when it is valid. */
  problems: string[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

/**
 * Reads an ignore file:
 *   ignores:
 *     - id: CVE-2021-23337
 *       package: lodash          # optional
 *       reason: template() is never called with user input
 *       expires: 2027-01-31
 * Every entry needs a reason and an expiry date: an accepted risk is a decision with an owner and an end.
 */
export interface IgnoreLimits {
  /** Today, for the limit below. */
  now: Date;
  /** How far ahead an entry may expire, in days: an accepted risk is decided again at least this often. */
  maxDays: number;
}

export const DEFAULT_IGNORE_MAX_DAYS = 365;

export function parseIgnoreFile(
  text: string,
  limits: IgnoreLimits = { now: new Date(), maxDays: DEFAULT_IGNORE_MAX_DAYS },
): IgnoreFile {
  const latest = new Date(limits.now.getTime() + limits.maxDays * 86_400_000).toISOString().slice(0, 10);
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false });
  } catch (error) {
    return { entries: [], problems: [`not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  if (doc === null || doc === undefined) return { entries: [], problems: [] };
  const list = (doc as { ignores?: unknown }).ignores;
  if (typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(list)) {
    return { entries: [], problems: ["expected a mapping with a list under 'ignores:'"] };
  }
  const entries: IgnoreEntry[] = [];
  const problems: string[] = [];
  list.forEach((raw: unknown, index) => {
    const where = `entry ${index + 1}`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${where}: expected a mapping with id, reason and expires`);
      return;
    }
    const e = raw as Record<string, unknown>;
    const id = typeof e.id === 'string' ? e.id.trim() : '';
    const label = id ? `${where} (${id})` : where;
    const before = problems.length;
    if (!id) problems.push(`${where}: 'id' is missing (a CVE or GHSA id)`);
    const reason = typeof e.reason === 'string' ? e.reason.trim() : '';
    if (!reason) problems.push(`${label}: 'reason' is missing: say why the risk is accepted`);
    // YAML reads an unquoted 2027-01-31 as a date; accept both forms.
    const expires =
      e.expires instanceof Date
        ? e.expires.toISOString().slice(0, 10)
        : typeof e.expires === 'string'
          ? e.expires.trim()
          : '';
    if (!expires) problems.push(`${label}: 'expires' is missing: give the last day the risk is accepted, YYYY-MM-DD`);
    else if (!validDate(expires)) problems.push(`${label}: 'expires' is '${expires}', not a date YYYY-MM-DD`);
    else if (expires > latest)
      problems.push(
        `${label}: 'expires' is ${expires}, more than ${limits.maxDays} days ahead (the latest allowed is ${latest}): set an earlier date, or raise ignore-max-days`,
      );
    if (e.package !== undefined && (typeof e.package !== 'string' || !e.package.trim()))
      problems.push(`${label}: 'package' must be a package name when given`);
    const unknown = Object.keys(e).filter((k) => !['id', 'package', 'reason', 'expires'].includes(k));
    if (unknown.length)
      problems.push(
        `${label}: unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')} (allowed: id, package, reason, expires)`,
      );
    if (problems.length === before)
      entries.push({ id, reason, expires, ...(typeof e.package === 'string' ? { package: e.package.trim() } : {}) });
  });
  return { entries, problems };
}

export function isExpired(entry: IgnoreEntry, now: Date): boolean {
  return now.toISOString().slice(0, 10) > entry.expires;
}
