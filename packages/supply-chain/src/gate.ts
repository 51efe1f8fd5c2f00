import { countBySeverity, type Finding, type Severity } from './findings.js';
import { isExpired, type IgnoreEntry } from './ignore-file.js';

export interface GatePolicy {
  /** Severities that stop the release. */
  failOn: Severity[];
  /** Skip findings that have no fixed version yet. */
  ignoreUnfixed: boolean;
  ignores: IgnoreEntry[];
  now: Date;
}

/** `F`: the findings as given (with their platforms, for an index), handed back as they came. */
export interface GateDecision<F extends Finding = Finding> {
  passed: boolean;
  /** Findings at a failing severity that nothing ignores. */
  blocking: F[];
  /** Findings an unexpired entry ignores, with the entry. */
  ignored: { finding: F; entry: IgnoreEntry }[];
  /** Findings without a fix, skipped because of ignoreUnfixed. */
  unfixed: F[];
  /** Entries past their date: they ignore nothing any more. */
  expired: IgnoreEntry[];
  /** Unexpired entries that matched no finding: candidates for removal. */
  unused: IgnoreEntry[];
  counts: Record<Severity, number>;
}

function matches(entry: IgnoreEntry, finding: Finding): boolean {
  const ids = [finding.id, ...finding.aliases].map((id) => id.toUpperCase());
  return ids.includes(entry.id.toUpperCase()) && (entry.package === undefined || entry.package === finding.package);
}

/** The severity gate: pure, so every combination of findings, ignores and dates is tested without a scanner. */
export function evaluateGate<F extends Finding>(findings: F[], policy: GatePolicy): GateDecision<F> {
  const active = policy.ignores.filter((e) => !isExpired(e, policy.now));
  const expired = policy.ignores.filter((e) => isExpired(e, policy.now));
  const used = new Set<IgnoreEntry>();
  const blocking: F[] = [];
  const ignored: GateDecision<F>['ignored'] = [];
  const unfixed: F[] = [];
  for (const finding of findings) {
    const entry = active.find((e) => matches(e, finding));
    if (entry) {
      used.add(entry);
      ignored.push({ finding, entry });
    } else if (policy.ignoreUnfixed && !finding.fixed) {
      unfixed.push(finding);
    } else if (policy.failOn.includes(finding.severity)) {
      blocking.push(finding);
    }
  }
  return {
    passed: blocking.length === 0,
    blocking,
    ignored,
    unfixed,
    expired,
    unused: active.filter((e) => !used.has(e)),
    counts: countBySeverity(findings),
  };
}
