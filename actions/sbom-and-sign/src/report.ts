// What sbom-and-sign tells: its outputs (the first platform's files, every platform's in platforms) and
// the job summary (SBOMs, the gate, signatures and attestations; a table per platform of an index).
import * as core from '@actions/core';
import { Phases, code, escapeHtml, writeSummary, type SummaryRow } from '@deploy-suite/action-kit';
import type { PlatformFinding, SbomAndSignResult, SigningMethod } from '@deploy-suite/supply-chain';
import { SEVERITIES } from '@deploy-suite/supply-chain/inputs';
import type { SbomAndSignInputs } from './inputs.js';

const BLOCKING_ROWS = 25;

/** The outputs and the job summary of a run (the gate's failure is thrown after them, by main). */
export async function report(
  inputs: SbomAndSignInputs,
  result: SbomAndSignResult,
  method: SigningMethod | undefined,
  phases: Phases,
): Promise<void> {
  const decision = result.scan?.decision;
  core.setOutput('digest', inputs.image.digest);
  core.setOutput('image', result.image);
  core.setOutput('artifact-name', `sbom-${result.stem}`);
  core.setOutput('output-dir', inputs.outputDir);
  // The first platform's files (the one image's): every platform's are in the platforms output.
  const sboms = result.platforms[0]?.sboms;
  core.setOutput('sbom-spdx', sboms?.spdx ?? '');
  core.setOutput('sbom-cyclonedx', sboms?.cyclonedx ?? '');
  core.setOutput('sarif', result.scan?.sarifPath ?? '');
  core.setOutput('gate', decision ? (decision.passed ? 'passed' : 'failed') : 'skipped');
  core.setOutput('findings', JSON.stringify(decision?.counts ?? {}));
  core.setOutput('signature', result.signature?.manifestDigest ?? '');
  core.setOutput(
    'attestations',
    JSON.stringify(
      result.attestations.map((a) => ({
        format: a.format,
        predicateType: a.predicateType,
        ...(a.platform ? { platform: a.platform } : {}),
        manifest: a.attached.manifestDigest,
      })),
    ),
  );
  core.setOutput('platforms', JSON.stringify(platformsOutput(result)));
  core.setOutput('timings', JSON.stringify(phases.toJSON()));
  await summarize(inputs, result, method, phases);
}

/** `, on linux/arm64` for a finding of an index: which platforms carry it. */
export function onPlatforms(result: SbomAndSignResult, finding: PlatformFinding): string {
  return result.index && finding.platforms.length ? `, on ${finding.platforms.join(' and ')}` : '';
}

/** The `platforms` output: per platform image, its manifest, SBOM files, findings and signature. */
function platformsOutput(result: SbomAndSignResult): Record<string, unknown>[] {
  return result.platforms.map((p) => ({
    ...(p.platform ? { platform: p.platform } : {}),
    digest: p.digest,
    ...(p.sboms ? { packages: p.sboms.packages, sbomSpdx: p.sboms.spdx, sbomCyclonedx: p.sboms.cyclonedx } : {}),
    ...(p.scan ? { findings: p.scan.decision.counts, gate: p.scan.decision.passed ? 'passed' : 'failed' } : {}),
    ...(p.signature ? { signature: p.signature.manifestDigest } : {}),
  }));
}

async function summarize(
  inputs: SbomAndSignInputs,
  result: SbomAndSignResult,
  method: SigningMethod | undefined,
  phases: Phases,
): Promise<void> {
  const decision = result.scan?.decision;
  const rows: SummaryRow[] = [
    [
      'Image',
      `${code(result.image)}${result.index ? `: an index of ${result.platforms.map((p) => escapeHtml(p.platform)).join(', ')}${result.skipped.length ? ` (${result.skipped.length} attestation manifest(s) left out)` : ''}` : ''}`,
    ],
  ];
  const sboms = result.platforms[0]?.sboms;
  if (sboms)
    rows.push([
      'SBOM',
      `${result.index ? 'per platform (below)' : `${sboms.packages} packages`}; SPDX ${sboms.spdxVersion}, CycloneDX ${sboms.cyclonedxVersion}; artifact ${code(`sbom-${result.stem}`)}`,
    ]);
  if (decision) {
    rows.push(['Vulnerabilities', SEVERITIES.map((s) => `${s.toLowerCase()} ${decision.counts[s]}`).join(', ')]);
    rows.push([
      'Gate',
      `${decision.passed ? 'passed' : '<b>failed</b>'} (fails on ${inputs.failOn.join(', ') || 'nothing'}${inputs.ignoreUnfixed ? '; unfixed ignored' : ''}); ${decision.blocking.length} blocking, ${decision.ignored.length} ignored with a reason, ${decision.unfixed.length} without a fix skipped`,
    ]);
    if (decision.expired.length)
      rows.push([
        'Expired ignore entries',
        decision.expired.map((e) => `${code(e.id)} (expired ${e.expires}): no longer ignored`).join('<br>'),
      ]);
    if (result.scan?.databaseUpdatedAt)
      rows.push(['Scanner database', `built ${escapeHtml(result.scan.databaseUpdatedAt)}`]);
  }
  if (result.signature) {
    rows.push([
      'Signature',
      `${code(result.signature.manifestDigest)} by ${escapeHtml(method?.describe ?? '')}; ${result.signature.via === 'tag-index' ? `tag index ${code(result.signature.fallbackTag ?? '')}` : 'referrers API'}`,
    ]);
    if (result.index)
      rows.push([
        'Platform signatures',
        `${result.platforms.length} (each platform manifest, as <code>cosign sign --recursive</code>)`,
      ]);
    for (const a of result.attestations)
      rows.push([
        `${a.format} attestation${a.platform ? ` (${escapeHtml(a.platform)})` : ''}`,
        code(a.attached.manifestDigest),
      ]);
    if (inputs.signing === 'key')
      rows.push(['Verify', code(`cosign verify --key cosign.pub --insecure-ignore-tlog=true ${result.image}`)]);
  } else if (decision && !decision.passed) {
    rows.push(['Signature', 'none: the gate failed, nothing was pushed']);
  } else {
    rows.push(['Signature', 'none (signing: none)']);
  }
  rows.push(['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')]);
  await writeSummary(
    `sbom-and-sign: ${decision && !decision.passed ? 'gate failed' : result.signature ? 'signed' : 'checked'}`,
    rows,
    (s) => {
      if (result.index) {
        s.addHeading('Platforms', 4).addTable([
          ['Platform', 'Manifest', 'Packages', 'Vulnerabilities (c/h/m/l)', 'Gate', 'Signature'].map((data) => ({
            data,
            header: true,
          })),
          ...result.platforms.map((p) => [
            escapeHtml(p.platform),
            code(p.digest),
            p.sboms ? String(p.sboms.packages) : '—',
            p.scan
              ? SEVERITIES.slice(0, 4)
                  .map((v) => p.scan!.decision.counts[v])
                  .join('/')
              : '—',
            p.scan ? (p.scan.decision.passed ? 'passed' : '<b>failed</b>') : '—',
            p.signature ? code(p.signature.manifestDigest) : '—',
          ]),
        ]);
      }
      if (!decision) return;
      const listed = [
        ...decision.blocking.map((f) => ({ f, note: 'blocking' })),
        ...decision.ignored.map((i) => ({ f: i.finding, note: `ignored until ${i.entry.expires}: ${i.entry.reason}` })),
      ];
      if (!listed.length) return;
      s.addHeading('Findings', 4).addTable([
        [
          { data: 'ID', header: true },
          { data: 'Severity', header: true },
          { data: 'Package', header: true },
          { data: 'Installed', header: true },
          { data: 'Fixed in', header: true },
          { data: 'Decision', header: true },
          ...(result.index ? [{ data: 'Platforms', header: true }] : []),
        ],
        ...listed
          .slice(0, BLOCKING_ROWS)
          .map(({ f, note }) => [
            f.url ? `<a href="${escapeHtml(f.url)}">${escapeHtml(f.id)}</a>` : escapeHtml(f.id),
            f.severity,
            escapeHtml(f.package),
            escapeHtml(f.installed),
            escapeHtml(f.fixed || '—'),
            escapeHtml(note),
            ...(result.index ? [escapeHtml(f.platforms.join(', '))] : []),
          ]),
      ]);
      if (listed.length > BLOCKING_ROWS) s.addRaw(`<p>${listed.length - BLOCKING_ROWS} more in the SARIF file.</p>`);
    },
  );
}
