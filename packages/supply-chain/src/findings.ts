/** Vulnerability findings, as the scanner reports them, in the scanner-neutral shape the gate reads. */

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  id: string;
  /** Other names of the same vulnerability (CVE for a GHSA, …): an ignore entry may use any. */
  aliases: string[];
  package: string;
  installed: string;
  /** Versions that fix it; empty when there is no fix yet. */
  fixed: string;
  severity: Severity;
  title: string;
  url: string;
  /** Where in the image it was found: a package database or a lock file. */
  target: string;
  path?: string;
}

interface TrivyVulnerability {
  VulnerabilityID?: string;
  VendorIDs?: string[];
  PkgName?: string;
  PkgPath?: string;
  InstalledVersion?: string;
  FixedVersion?: string;
  Severity?: string;
  Title?: string;
  PrimaryURL?: string;
}

interface TrivyReport {
  SchemaVersion?: number;
  Results?: { Target?: string; Vulnerabilities?: TrivyVulnerability[] | null }[] | null;
}

function severityOf(value: string | undefined): Severity {
  const upper = (value ?? '').toUpperCase();
  return (SEVERITIES as readonly string[]).includes(upper) ? (upper as Severity) : 'UNKNOWN';
}

/** Reads `trivy image --format json` output (schema 2). Throws when it is not that. */
export function findingsFromTrivy(report: unknown): Finding[] {
  const r = report as TrivyReport;
  if (!r || typeof r !== 'object' || r.SchemaVersion !== 2)
    throw new Error('not a trivy JSON report (SchemaVersion 2)');
  const findings: Finding[] = [];
  for (const result of r.Results ?? []) {
    for (const v of result.Vulnerabilities ?? []) {
      if (!v.VulnerabilityID || !v.PkgName) continue;
      findings.push({
        id: v.VulnerabilityID,
        aliases: (v.VendorIDs ?? []).filter((id) => id !== v.VulnerabilityID),
        package: v.PkgName,
        installed: v.InstalledVersion ?? '',
        fixed: v.FixedVersion ?? '',
        severity: severityOf(v.Severity),
        title: v.Title ?? '',
        url: v.PrimaryURL ?? '',
        target: result.Target ?? '',
        ...(v.PkgPath ? { path: v.PkgPath } : {}),
      });
    }
  }
  return findings;
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}
