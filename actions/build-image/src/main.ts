import * as core from '@actions/core';
import {
  InputError,
  InputReader,
  Phases,
  code,
  formatBytes,
  readGitHubContext,
  requireRunner,
  runAction,
  writeSummary,
  type SummaryRow,
} from '@deploy-suite/action-kit';
import { buildImage, planImage } from '@deploy-suite/image-build';
import { TagRuleError, gitContextFrom, repositoryName } from '@deploy-suite/oci';
import { readBuildImageInputs } from './inputs.js';
import { resolveRepository } from './repository.js';

async function main(): Promise<void> {
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
  const git = gitContextFrom(github, repo.defaultBranch, new Date());

  let plan;
  try {
    plan = planImage(inputs.image, inputs.rules, inputs.flavor, git, repo, inputs.labels, inputs.annotations);
  } catch (error) {
    if (error instanceof TagRuleError)
      throw new InputError([{ input: 'tags', problem: error.message, fix: error.fix }]);
    throw error;
  }
  if (inputs.push && plan.references.length === 0) {
    throw new InputError([
      {
        input: 'tags',
        problem: `no rule produced a tag for this ${github.eventName || 'event'} (ref '${git.ref}')`,
        fix: 'add a rule that applies here, e.g. type=sha or type=raw,value=<tag>',
      },
    ]);
  }
  core.info(`Tags:\n  ${plan.references.join('\n  ') || '(none)'}`);
  for (const note of plan.notes) core.info(note);

  const phases = new Phases();
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
        load: inputs.load,
        tags: plan.references,
        labels: plan.labels,
        annotations: inputs.annotations.size > 0 ? plan.annotations : new Map(),
        cacheFrom: inputs.cacheFrom,
        cacheTo: inputs.cacheTo,
        noCache: inputs.noCache,
        pull: inputs.pull,
        ...(inputs.builder ? { builder: inputs.builder } : {}),
      },
      secrets: inputs.secrets,
      ...(inputs.login ? { login: inputs.login } : {}),
      requireNonRoot: inputs.requireNonRoot,
      insecureRegistries: inputs.insecureRegistries,
    },
    phases,
  );

  const name = repositoryName(inputs.image);
  const labelLines = [...plan.labels].map(([k, v]) => `${k}=${v}`);
  // Only a pushed image has a registry digest and a name@digest the next steps can pull, scan or sign.
  const pushed = inputs.push ? `${name}@${built.digest}` : '';
  const imageId = inputs.push ? '' : built.digest;
  if (!inputs.push)
    core.notice(
      imageId
        ? `push is false: nothing was pushed, so digest and image are empty; the image is in the local docker engine as ${imageId} (image-id), tagged ${plan.references.join(', ') || '(no tag)'}`
        : 'push and load are false: the build stays in the build cache only; digest, image and image-id are empty (set push: true to publish it, or load: true to keep it in the local docker engine)',
    );
  core.setOutput('digest', inputs.push ? built.digest : '');
  core.setOutput('image', pushed);
  core.setOutput('image-id', imageId);
  core.setOutput('tags', plan.references.join('\n'));
  core.setOutput('labels', labelLines.join('\n'));
  core.setOutput('annotations', [...plan.annotations].map(([k, v]) => `${k}=${v}`).join('\n'));
  core.setOutput('version', plan.version);
  core.setOutput('metadata', JSON.stringify(built.metadata.raw));
  core.setOutput('size', String(built.images[0]?.size ?? 0));
  core.setOutput('cached-steps', `${built.cache.cached}/${built.cache.steps}`);
  core.setOutput('timings', JSON.stringify(phases.toJSON()));

  const rows: SummaryRow[] = [
    ['Image', pushed ? code(pushed) : imageId ? `not pushed; local image ${code(imageId)}` : 'not pushed or loaded'],
    ['Tags', plan.references.map(code).join('<br>') || '(none)'],
    ['Version', plan.version || '(none)'],
    ['Pushed', inputs.push ? 'yes' : 'no'],
    ...built.images.map((i): SummaryRow => [`Size ${i.platform}`, i.size ? formatBytes(i.size) : 'n/a (not pushed)']),
    ['Runs as', built.images.map((i) => `${i.platform}: ${i.user || 'root (unset)'}`).join('<br>')],
    ['Cache', `${built.cache.cached} of ${built.cache.steps} RUN/COPY/ADD steps cached`],
    ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')],
  ];
  if (built.attempts > 1) rows.push(['Push attempts', String(built.attempts)]);
  await writeSummary('build-image', rows, (s) => s.addDetails('Labels', `<pre>${labelLines.join('\n')}</pre>`));
}

await runAction(main, 'build-image');
