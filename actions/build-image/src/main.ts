import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import {
  InputError,
  InputReader,
  PhaseError,
  Phases,
  code,
  formatBytes,
  readGitHubContext,
  runAction,
  writeSummary,
  type SummaryRow,
} from '@deploy-suite/action-kit';
import {
  describePushedImage,
  localImageUser,
  loginSession,
  planImage,
  runBuild,
  runsAsRoot,
  type BuildOptions,
  type BuildResult,
  type PlatformImage,
} from '@deploy-suite/image-build';
import { RegistryClient, TagRuleError, credentialsFor, gitContextFrom, repositoryName } from '@deploy-suite/oci';
import { readBuildImageInputs } from './inputs.js';
import { resolveRepository } from './repository.js';

async function main(): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readBuildImageInputs(new InputReader(), workspace, (m) => core.warning(m));
  const phases = new Phases();
  const github = readGitHubContext();
  const repo = await resolveRepository(github, inputs.githubToken);
  const git = gitContextFrom(github, repo.defaultBranch, new Date());

  let plan;
  try {
    plan = planImage(inputs.image, inputs.rules, inputs.flavor, git, repo, inputs.labels, inputs.annotations);
  } catch (error) {
    if (error instanceof TagRuleError) throw new InputError([{ input: 'tags', problem: error.message, fix: error.fix }]);
    throw error;
  }
  if (inputs.push && plan.references.length === 0) {
    throw new InputError([{ input: 'tags', problem: `no rule produced a tag for this ${github.eventName || 'event'} (ref '${git.ref}')`, fix: 'add a rule that applies here, e.g. type=sha or type=raw,value=<tag>' }]);
  }
  core.info(`Tags:\n  ${plan.references.join('\n  ') || '(none)'}`);
  for (const note of plan.notes) core.info(note);

  const name = repositoryName(inputs.image);
  const temp = await mkdtemp(join(tmpdir(), 'deploy-suite-build-'));
  let result: BuildResult;
  let images: PlatformImage[] = [];
  try {
    const session = inputs.login ? await phases.run('login', () => loginSession(inputs.login!.registry, inputs.login!.username, inputs.login!.password)) : undefined;
    try {
      const secretFiles = new Map(inputs.secretFiles);
      for (const [id, value] of inputs.secrets) {
        const path = join(temp, `secret-${id}`);
        await writeFile(path, value, { mode: 0o600 });
        await chmod(path, 0o600);
        secretFiles.set(id, path);
      }
      const options: BuildOptions = {
        context: inputs.context,
        ...(inputs.file ? { file: inputs.file } : {}),
        ...(inputs.target ? { target: inputs.target } : {}),
        buildArgs: inputs.buildArgs,
        secretFiles,
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
        metadataFile: join(temp, 'metadata.json'),
      };
      const run = session ? { env: session.env } : {};
      const client = new RegistryClient({ credentials: (host) => credentialsFor(host, session?.configDir) });
      // Reach the registry while buildx works, so the checks after the push start warm.
      const warm = inputs.push ? client.ping(inputs.image).catch(() => undefined) : undefined;
      if (inputs.requireNonRoot && inputs.push) {
        // The gate runs before anything is pushed: build and load first, check, then push from the cache.
        const loaded = await phases.run('build', () => runBuild({ ...options, push: false, load: true, metadataFile: join(temp, 'loaded.json') }, run));
        const user = await localImageUser(loaded.metadata.configDigest ?? loaded.metadata.digest ?? '', session?.env);
        if (runsAsRoot(user)) throw rootError(user);
        result = await phases.run('push', () => runBuild(options, run));
        result.cache = loaded.cache;
      } else {
        result = await phases.run('build', () => runBuild(options, run));
      }
      const digest = result.metadata.digest;
      if (!digest) {
        throw new PhaseError('build', 'buildx reported no image digest: nothing was pushed or loaded', "set push: true (or load: true for a local image)");
      }
      images = await phases.run('verify', async () => {
        if (inputs.push) {
          await warm;
          return describePushedImage(client, inputs.image, digest, result.metadata.configDigest);
        }
        const user = await localImageUser(result.metadata.configDigest ?? digest, session?.env);
        return [{ platform: inputs.platforms[0] ?? 'local', user, size: 0 }];
      });
      const rootPlatforms = images.filter((i) => runsAsRoot(i.user));
      if (rootPlatforms.length > 0) {
        if (inputs.requireNonRoot) throw rootError(rootPlatforms[0]!.user);
        core.warning(`the image runs as root (${rootPlatforms.map((i) => i.platform).join(', ')}); add a USER instruction with a non-root uid, and set require-non-root: true to enforce it`);
      }
    } finally {
      await session?.close();
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }

  const digest = result.metadata.digest!;
  const labelLines = [...plan.labels].map(([k, v]) => `${k}=${v}`);
  core.setOutput('digest', digest);
  core.setOutput('image', `${name}@${digest}`);
  core.setOutput('tags', plan.references.join('\n'));
  core.setOutput('labels', labelLines.join('\n'));
  core.setOutput('annotations', [...plan.annotations].map(([k, v]) => `${k}=${v}`).join('\n'));
  core.setOutput('version', plan.version);
  core.setOutput('metadata', JSON.stringify(result.metadata.raw));
  core.setOutput('size', String(images[0]?.size ?? 0));
  core.setOutput('cached-steps', `${result.cache.cached}/${result.cache.steps}`);
  core.setOutput('timings', JSON.stringify(phases.toJSON()));

  const rows: SummaryRow[] = [
    ['Image', code(`${name}@${digest}`)],
    ['Tags', plan.references.map(code).join('<br>') || '(none)'],
    ['Version', plan.version || '(none)'],
    ['Pushed', inputs.push ? 'yes' : 'no'],
    ...images.map((i): SummaryRow => [`Size ${i.platform}`, i.size ? formatBytes(i.size) : 'n/a (not pushed)']),
    ['Runs as', images.map((i) => `${i.platform}: ${i.user || 'root (unset)'}`).join('<br>')],
    ['Cache', `${result.cache.cached} of ${result.cache.steps} RUN/COPY/ADD steps cached`],
    ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')],
  ];
  if (result.attempts > 1) rows.push(['Push attempts', String(result.attempts)]);
  await writeSummary('build-image', rows, (s) => s.addDetails('Labels', `<pre>${labelLines.join('\n')}</pre>`));
}

function rootError(user: string): PhaseError {
  return new PhaseError(
    'verify',
    `the image runs as root (config User '${user || 'unset'}') and require-non-root is true; nothing was pushed`,
    'add `USER <non-root uid>` to the final stage of the Dockerfile',
  );
}

await runAction(main);
