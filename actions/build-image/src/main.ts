import * as core from '@actions/core';
import { InputReader, Phases, readGitHubContext, requireRunner } from '@deploy-suite/action-kit';
import { buildImage, mergeImage } from '@deploy-suite/image-build';
import { repositoryName } from '@deploy-suite/oci';
import { readBuildImageInputs } from './inputs.js';
import { planFor, runUrl } from './plan.js';
import { reportBuild, reportMerge } from './report.js';
import { resolveRepository } from './repository.js';

/** The action, as the runner starts it (src/index.ts): inputs from the environment, outputs and summary to it. */
export async function run(): Promise<void> {
  requireRunner('build-image', {
    platforms: ['linux'],
    arches: ['x64', 'arm64'],
    because: 'it drives docker buildx, which GitHub provides',
  });
  const inputs = readBuildImageInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd(), (m) =>
    core.warning(m),
  );
  const github = readGitHubContext();
  const repo = await resolveRepository(github, inputs.githubToken);
  const plan = planFor(inputs, github, repo);
  core.info(`Tags:\n  ${plan.references.join('\n  ') || '(none)'}`);
  for (const note of plan.notes) core.info(note);
  const name = repositoryName(inputs.image);
  const phases = new Phases();

  if (inputs.digests.length > 0) {
    // Merge mode: the matrix jobs pushed by digest; one index of them gets the tags.
    const merged = await mergeImage(
      {
        image: inputs.image,
        digests: inputs.digests,
        references: plan.references,
        annotations: plan.annotations,
        ...(inputs.login ? { login: inputs.login } : {}),
        requireNonRoot: inputs.requireNonRoot,
        insecureRegistries: inputs.insecureRegistries,
      },
      phases,
    );
    await reportMerge(name, plan, merged, phases);
    return;
  }

  const built = await buildImage(
    {
      image: inputs.image,
      options: {
        context: inputs.context,
        ...(inputs.file ? { file: inputs.file } : {}),
        ...(inputs.target ? { target: inputs.target } : {}),
        buildArgs: inputs.buildArgs,
        secretFiles: inputs.secretFiles,
        secretEnvs: inputs.secretEnvs,
        platforms: inputs.platforms,
        push: inputs.push,
        ...(inputs.pushByDigest ? { pushByDigest: true } : {}),
        load: inputs.load,
        tags: plan.references,
        labels: plan.labels,
        annotations: plan.annotations,
        cacheFrom: inputs.cacheFrom,
        cacheTo: inputs.cacheTo,
        noCache: inputs.noCache,
        pull: inputs.pull,
        ...(inputs.builder ? { builder: inputs.builder } : {}),
      },
      userAnnotations: inputs.annotations.size > 0,
      attestations: { provenance: inputs.provenance, sbom: inputs.sbom },
      ...(repo.private !== undefined ? { privateRepository: repo.private } : {}),
      runUrl: runUrl(github),
      secrets: inputs.secrets,
      ...(inputs.login ? { login: inputs.login } : {}),
      requireNonRoot: inputs.requireNonRoot,
      insecureRegistries: inputs.insecureRegistries,
    },
    phases,
  );
  await reportBuild(name, inputs.push, plan, built, phases);
}
