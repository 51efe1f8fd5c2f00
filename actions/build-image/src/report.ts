import * as core from '@actions/core';
import { code, escapeHtml, formatBytes, writeSummary, type Phases, type SummaryRow } from '@deploy-suite/action-kit';
import type { BuiltImage, ImagePlan, MergedImage, PlatformImage } from '@deploy-suite/image-build';

/** The `platforms` output and the summary's table: each platform's manifest, size and user. */
function platformsJson(images: PlatformImage[]): string {
  return JSON.stringify(images.map(({ platform, digest, size, user }) => ({ platform, digest, size, user })));
}

function platformTable(s: typeof core.summary, images: PlatformImage[]): void {
  if (images.length === 0) return;
  s.addTable([
    ['Platform', 'Manifest', 'Size', 'Runs as'].map((data) => ({ data, header: true })),
    ...images.map((i) => [
      escapeHtml(i.platform),
      i.digest ? code(i.digest) : 'local',
      i.size ? formatBytes(i.size) : 'n/a',
      escapeHtml(i.user || 'root (unset)'),
    ]),
  ]);
}

function commonOutputs(plan: ImagePlan, phases: Phases, images: PlatformImage[]): void {
  core.setOutput('labels', [...plan.labels].map(([k, v]) => `${k}=${v}`).join('\n'));
  core.setOutput('annotations', [...plan.annotations].map(([k, v]) => `${k}=${v}`).join('\n'));
  core.setOutput('version', plan.version);
  core.setOutput('platforms', platformsJson(images));
  core.setOutput('size', String(images[0]?.size ?? 0));
  core.setOutput('timings', JSON.stringify(phases.toJSON()));
}

function timeRow(phases: Phases): SummaryRow {
  return ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')];
}

export async function reportBuild(
  name: string,
  push: boolean,
  plan: ImagePlan,
  built: BuiltImage,
  phases: Phases,
): Promise<void> {
  const byDigest = push && built.tagged.length === 0;
  // Only a pushed image has a registry digest and a name@digest the next steps can pull, scan or sign.
  const pushed = push ? `${name}@${built.digest}` : '';
  const imageId = push ? '' : built.digest;
  if (!push)
    core.notice(
      imageId
        ? `push is false: nothing was pushed, so digest and image are empty; the image is in the local docker engine as ${imageId} (image-id), tagged ${plan.references.join(', ') || '(no tag)'}`
        : 'push and load are false: the build stays in the build cache only; digest, image and image-id are empty (set push: true to publish it, or load: true to keep it in the local docker engine)',
    );
  if (byDigest)
    core.notice(`pushed by digest only: ${pushed} has no tag; the merge job (build-image with digests) tags the index`);
  core.setOutput('digest', push ? built.digest : '');
  core.setOutput('image', pushed);
  core.setOutput('image-id', imageId);
  core.setOutput('tags', built.tagged.join('\n'));
  core.setOutput('metadata', JSON.stringify(built.metadata.raw));
  core.setOutput('cached-steps', `${built.cache.cached}/${built.cache.steps}`);
  commonOutputs(plan, phases, built.images);

  const b = built.builder;
  const provenance = built.attestations.provenance;
  const rows: SummaryRow[] = [
    ['Image', pushed ? code(pushed) : imageId ? `not pushed; local image ${code(imageId)}` : 'not pushed or loaded'],
    ['Tags', built.tagged.map(code).join('<br>') || (byDigest ? 'none: pushed by digest' : '(none)')],
    ['Version', plan.version || '(none)'],
    ['Pushed', byDigest ? 'by digest only' : push ? 'yes' : 'no'],
    [
      'Builder',
      escapeHtml(
        `${b.name} (${b.driver} driver, BuildKit ${b.buildkitVersion ?? 'unknown'}, buildx ${b.buildxVersion ?? 'unknown'})`,
      ),
    ],
    [
      'Attestations',
      escapeHtml(
        [
          provenance && provenance !== 'false' ? `provenance (${provenance.split(',')[0]})` : 'no provenance',
          built.attestations.sbom ? `SBOM (${built.attestations.sbom})` : '',
        ]
          .filter(Boolean)
          .join(', '),
      ),
    ],
    [
      'Cache',
      `${built.cache.cached} of ${built.cache.steps} RUN/COPY/ADD steps cached${built.cache.exportErrors.length ? `; export failed: ${escapeHtml(built.cache.exportErrors.join('; '))}` : ''}`,
    ],
    timeRow(phases),
  ];
  if (built.attempts > 1) rows.push(['Push attempts', String(built.attempts)]);
  await writeSummary('build-image', rows, (s) => {
    platformTable(s, built.images);
    s.addDetails('Labels', `<pre>${escapeHtml([...plan.labels].map(([k, v]) => `${k}=${v}`).join('\n'))}</pre>`);
  });
}

export async function reportMerge(name: string, plan: ImagePlan, merged: MergedImage, phases: Phases): Promise<void> {
  core.setOutput('digest', merged.digest);
  core.setOutput('image', `${name}@${merged.digest}`);
  core.setOutput('image-id', '');
  core.setOutput('tags', merged.tagged.join('\n'));
  core.setOutput('metadata', '{}');
  core.setOutput('cached-steps', '');
  commonOutputs(plan, phases, merged.images);
  const rows: SummaryRow[] = [
    ['Image', code(`${name}@${merged.digest}`)],
    ['Tags', merged.tagged.map(code).join('<br>')],
    ['Version', plan.version || '(none)'],
    ['Merged', `${merged.images.length} platforms, ${merged.attestations} attestation manifests, into one index`],
    timeRow(phases),
  ];
  await writeSummary('build-image (merge)', rows, (s) => platformTable(s, merged.images));
}
