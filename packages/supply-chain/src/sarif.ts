import type { Finding, Severity } from './findings.js';

// GitHub code scanning ranks security alerts by this rule property (CVSS-like scale).
const SECURITY_SEVERITY: Record<Severity, string> = {
  CRITICAL: '9.5',
  HIGH: '8.0',
  MEDIUM: '5.5',
  LOW: '2.0',
  UNKNOWN: '0.0',
};
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

export interface SarifOptions {
  toolName: string;
  toolVersion?: string;
  /** The image scanned, named in each result's message. */
  image: string;
}

/** SARIF 2.1.0 for code scanning (github/codeql-action/upload-sarif): one rule per vulnerability id. */
export function toSarif(findings: Finding[], options: SarifOptions): object {
  const rules = new Map<string, { finding: Finding; index: number }>();
  for (const f of findings) if (!rules.has(f.id)) rules.set(f.id, { finding: f, index: rules.size });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName,
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            informationUri: 'https://github.com/aquasecurity/trivy',
            rules: [...rules.values()].map(({ finding }) => ({
              id: finding.id,
              name: 'ImageVulnerability',
              shortDescription: { text: finding.title || finding.id },
              fullDescription: {
                text: `${finding.id} in ${finding.package}${finding.title ? `: ${finding.title}` : ''}`,
              },
              ...(finding.url ? { helpUri: finding.url } : {}),
              help: {
                text: `Fixed in: ${finding.fixed || 'no fix yet'}`,
                markdown: `**${finding.id}** (${finding.severity}) in \`${finding.package}\`. Fixed in: ${finding.fixed || 'no fix yet'}`,
              },
              properties: {
                'security-severity': SECURITY_SEVERITY[finding.severity],
                tags: ['vulnerability', 'security', finding.severity],
              },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.id,
          ruleIndex: rules.get(f.id)?.index ?? 0,
          level: LEVEL[f.severity],
          message: {
            text: `${f.package} ${f.installed} in ${options.image} has ${f.id} (${f.severity}); fixed in: ${f.fixed || 'no fix yet'}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: (f.path ?? f.target).replace(/^\/+/, '') || 'image', uriBaseId: 'ROOTPATH' },
                region: { startLine: 1 },
              },
            },
          ],
        })),
      },
    ],
  };
}
