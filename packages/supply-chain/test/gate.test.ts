import { describe, expect, it } from '@jest/globals';
import {
  evaluateGate,
  findingsFromTrivy,
  parseIgnoreFile,
  toSarif,
  type Finding,
  type GatePolicy,
} from '../src/index.js';

const finding = (id: string, severity: Finding['severity'], over: Partial<Finding> = {}): Finding => ({
  id,
  aliases: [],
  package: 'lodash',
  installed: '4.17.11',
  fixed: '4.17.21',
  severity,
  title: `${id} title`,
  url: `https://avd.aquasec.com/nvd/${id.toLowerCase()}`,
  target: 'Node.js',
  path: 'app/node_modules/lodash/package.json',
  ...over,
});
const NOW = new Date('2026-11-27T12:00:00Z');
const policy = (over: Partial<GatePolicy> = {}): GatePolicy => ({
  failOn: ['CRITICAL', 'HIGH'],
  ignoreUnfixed: false,
  ignores: [],
  now: NOW,
  ...over,
});

describe('severity gate', () => {
  const findings = [
    finding('CVE-1', 'CRITICAL'),
    finding('CVE-2', 'HIGH'),
    finding('CVE-3', 'MEDIUM'),
    finding('CVE-4', 'HIGH', { fixed: '', package: 'left-pad' }),
  ];

  it('fails on critical and high by default, counts every severity', () => {
    const d = evaluateGate(findings, policy());
    expect(d.passed).toBe(false);
    expect(d.blocking.map((f) => f.id)).toEqual(['CVE-1', 'CVE-2', 'CVE-4']);
    expect(d.counts).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 1, LOW: 0, UNKNOWN: 0 });
  });

  it('passes a clean image and an image with only lower severities', () => {
    expect(evaluateGate([], policy()).passed).toBe(true);
    expect(evaluateGate([finding('CVE-3', 'MEDIUM')], policy()).passed).toBe(true);
    expect(evaluateGate([finding('CVE-3', 'MEDIUM')], policy({ failOn: ['MEDIUM'] })).passed).toBe(false);
  });

  it('ignore-unfixed skips findings without a fix, and only those', () => {
    const d = evaluateGate(findings, policy({ ignoreUnfixed: true }));
    expect(d.unfixed.map((f) => f.id)).toEqual(['CVE-4']);
    expect(d.blocking.map((f) => f.id)).toEqual(['CVE-1', 'CVE-2']);
  });

  it('an entry ignores until the end of its expiry day, by id or alias, optionally per package', () => {
    const entry = { id: 'cve-1', reason: 'unreachable', expires: '2026-11-27' };
    const d = evaluateGate(
      findings,
      policy({
        ignores: [
          entry,
          { id: 'GHSA-x', reason: 'r', expires: '2027-01-01' },
          { id: 'CVE-2', package: 'other', reason: 'r', expires: '2027-01-01' },
        ],
      }),
    );
    expect(d.ignored.map((i) => [i.finding.id, i.entry.reason])).toEqual([['CVE-1', 'unreachable']]);
    expect(d.blocking.map((f) => f.id)).toEqual(['CVE-2', 'CVE-4']);
    expect(d.unused.map((e) => e.id)).toEqual(['GHSA-x', 'CVE-2']);
    const byAlias = evaluateGate(
      [finding('CVE-9', 'HIGH', { aliases: ['GHSA-abcd-efgh-ijkl'] })],
      policy({ ignores: [{ id: 'GHSA-abcd-efgh-ijkl', reason: 'r', expires: '2027-01-01' }] }),
    );
    expect(byAlias.passed).toBe(true);
  });

  it('an expired entry stops ignoring and is reported', () => {
    const entry = { id: 'CVE-1', reason: 'waiting for upstream', expires: '2026-11-26' };
    const d = evaluateGate(findings, policy({ ignores: [entry] }));
    expect(d.ignored).toEqual([]);
    expect(d.expired).toEqual([entry]);
    expect(d.blocking.map((f) => f.id)).toContain('CVE-1');
  });
});

describe('ignore file', () => {
  const limits = { now: new Date('2026-11-27T12:00:00Z'), maxDays: 365 };
  it('reads entries with id, optional package, reason, expiry (quoted or YAML date)', () => {
    const file = parseIgnoreFile(
      `ignores:\n  - id: CVE-2021-23337\n    package: lodash\n    reason: template() never sees user input\n    expires: 2027-01-31\n  - id: GHSA-2222-3333-4444\n    reason: "vendor says not exploitable"\n    expires: "2026-12-31"\n`,
      limits,
    );
    expect(file.problems).toEqual([]);
    expect(file.entries).toEqual([
      { id: 'CVE-2021-23337', package: 'lodash', reason: 'template() never sees user input', expires: '2027-01-31' },
      { id: 'GHSA-2222-3333-4444', reason: 'vendor says not exploitable', expires: '2026-12-31' },
    ]);
    expect(parseIgnoreFile('')).toEqual({ entries: [], problems: [] });
  });

  it('accepts an entry up to the last allowed day, and a longer horizon when ignore-max-days raises it', () => {
    const text = 'ignores:\n  - id: CVE-1\n    reason: r\n    expires: 2027-11-27\n';
    expect(parseIgnoreFile(text, limits).problems).toEqual([]);
    const far = 'ignores:\n  - id: CVE-1\n    reason: r\n    expires: 2030-01-01\n';
    expect(parseIgnoreFile(far, limits).problems).toHaveLength(1);
    expect(parseIgnoreFile(far, { ...limits, maxDays: 5 * 365 }).problems).toEqual([]);
  });

  it.each([
    ['ignores: [', /not valid YAML/],
    ['- id: CVE-1', /expected a mapping with a list under 'ignores:'/],
    ['ignores:\n  - CVE-1', /entry 1: expected a mapping/],
    ['ignores:\n  - reason: r\n    expires: 2027-01-01', /entry 1: 'id' is missing/],
    ['ignores:\n  - id: CVE-1\n    expires: 2027-01-01', /entry 1 \(CVE-1\): 'reason' is missing/],
    ['ignores:\n  - id: CVE-1\n    reason: r', /'expires' is missing/],
    ['ignores:\n  - id: CVE-1\n    reason: r\n    expires: "2027-02-30"', /'expires' is '2027-02-30', not a date/],
    ['ignores:\n  - id: CVE-1\n    reason: r\n    expires: next year', /not a date YYYY-MM-DD/],
    ['ignores:\n  - id: CVE-1\n    reason: r\n    expires: 2027-01-01\n    until: x', /unknown field\(s\) 'until'/],
    [
      'ignores:\n  - id: CVE-1\n    reason: r\n    expires: 9999-12-31',
      /'expires' is 9999-12-31, more than 365 days ahead \(the latest allowed is 2027-11-27\): set an earlier date, or raise ignore-max-days/,
    ],
    ['ignores:\n  - id: CVE-1\n    reason: r\n    expires: 2027-11-28', /more than 365 days ahead/],
  ])('%j is refused: %s', (text, problem) => {
    const file = parseIgnoreFile(text, limits);
    expect(file.problems.join('\n')).toMatch(problem);
    expect(file.entries).toEqual([]);
  });
});

describe('trivy report and SARIF', () => {
  const report = {
    SchemaVersion: 2,
    ArtifactName: 'reg/app@sha256:…',
    Results: [
      { Target: 'reg/app (debian 12.12)', Class: 'os-pkgs', Type: 'debian' },
      {
        Target: 'Node.js',
        Class: 'lang-pkgs',
        Type: 'node-pkg',
        Vulnerabilities: [
          {
            VulnerabilityID: 'CVE-2019-10744',
            VendorIDs: ['GHSA-jf85-cpcp-j695'],
            PkgName: 'lodash',
            PkgPath: 'app/node_modules/lodash/package.json',
            InstalledVersion: '4.17.11',
            FixedVersion: '4.17.12',
            Severity: 'CRITICAL',
            Title: 'Prototype Pollution',
            PrimaryURL: 'https://avd.aquasec.com/nvd/cve-2019-10744',
          },
          {
            VulnerabilityID: 'GHSA-2222-3333-4444',
            PkgName: 'left-pad',
            InstalledVersion: '1.3.0',
            Severity: 'WHATEVER',
          },
        ],
      },
    ],
  };

  it('reads findings with aliases, paths and unknown severities', () => {
    const findings = findingsFromTrivy(report);
    expect(findings).toHaveLength(2);
    expect(findings[0]).toMatchObject({
      id: 'CVE-2019-10744',
      aliases: ['GHSA-jf85-cpcp-j695'],
      fixed: '4.17.12',
      severity: 'CRITICAL',
      path: 'app/node_modules/lodash/package.json',
    });
    expect(findings[1]).toMatchObject({ id: 'GHSA-2222-3333-4444', fixed: '', severity: 'UNKNOWN' });
    expect(() => findingsFromTrivy({ Results: [] })).toThrow(/not a trivy JSON report/);
  });

  it('writes SARIF 2.1.0 with one rule per id and GitHub security severities', () => {
    const sarif = toSarif(
      [...findingsFromTrivy(report), finding('CVE-2019-10744', 'CRITICAL', { package: 'lodash-es' })],
      { toolName: 'trivy', toolVersion: '0.74.0', image: 'reg/app@sha256:x' },
    ) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } };
        results: {
          ruleIndex: number;
          level: string;
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
        }[];
      }[];
    };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(['CVE-2019-10744', 'GHSA-2222-3333-4444']);
    expect(run.tool.driver.rules[0]!.properties['security-severity']).toBe('9.5');
    expect(run.results.map((r) => [r.ruleIndex, r.level])).toEqual([
      [0, 'error'],
      [1, 'note'],
      [0, 'error'],
    ]);
    expect(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(
      'app/node_modules/lodash/package.json',
    );
  });
});
