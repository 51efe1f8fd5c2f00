import { readFile, rm } from 'node:fs/promises';
import * as core from '@actions/core';
import { PhaseError, execTool, maskSecret, retry } from '@deploy-suite/action-kit';
import { buildxArgs, builderProblems, type BuildOptions } from './build-options.js';
import { parseBuildxInspect, parseBuildxVersion, type BuilderInfo } from './builder.js';
import {
  cacheUse,
  classifyFailure,
  failureExcerpt,
  parseMetadata,
  type BuildMetadata,
  type CacheUse,
} from './build-output.js';

export interface BuildResult {
  metadata: BuildMetadata;
  cache: CacheUse;
  attempts: number;
  builder: BuilderInfo;
}

export interface RunBuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Attempts when the push fails transiently (the build itself is cached, so a retry redoes the push). */
  attempts?: number;
  retryDelayMs?: number;
  /** The builder, when the caller inspected it already. */
  builder?: BuilderInfo;
}

/**
 * What the builder is and runs (driver, BuildKit and buildx versions, platforms): `buildx inspect
 * --bootstrap` (the node must run for its BuildKit version) and `buildx version`, side by side.
 */
export async function inspectBuilder(builder: string | undefined, env?: NodeJS.ProcessEnv): Promise<BuilderInfo> {
  const quiet = { stream: false, ...(env ? { env } : {}) };
  const [inspected, version] = await Promise.all([
    execTool('docker', ['buildx', 'inspect', '--bootstrap', ...(builder ? [builder] : [])], quiet),
    execTool('docker', ['buildx', 'version'], quiet),
  ]);
  if (inspected.exitCode !== 0) {
    throw new PhaseError(
      'build',
      `docker buildx inspect${builder ? ` ${builder}` : ''} failed: ${inspected.stderr.trim()}`,
      builder
        ? `check 'builder': create it first (docker/setup-buildx-action, or docker buildx create --name ${builder})`
        : 'check that docker buildx is installed (docker/setup-buildx-action)',
    );
  }
  const info: BuilderInfo = { ...parseBuildxInspect(inspected.stdout) };
  const buildx = parseBuildxVersion(version.stdout);
  if (buildx) info.buildxVersion = buildx;
  if (info.driver === 'docker') {
    // The docker driver exports like BuildKit only on an engine with the containerd image store.
    const status = await execTool('docker', ['info', '--format', '{{json .DriverStatus}}'], quiet);
    info.containerdStore = status.exitCode === 0 && status.stdout.includes('io.containerd.snapshotter');
  }
  return info;
}

export async function runBuild(options: BuildOptions, run: RunBuildOptions = {}): Promise<BuildResult> {
  const builder = run.builder ?? (await inspectBuilder(options.builder, run.env));
  const problems = builderProblems(options, builder);
  if (problems.length > 0) {
    throw new PhaseError(
      'build',
      `builder '${builder.name}' (${builder.driver} driver) cannot do what the inputs ask:\n  ${problems.join('\n  ')}`,
      'create a docker-container builder (docker/setup-buildx-action) and pass it as builder, or drop those inputs',
    );
  }
  const command = buildxArgs(options, builder);
  // buildx reads `--secret id=…,env=VAR` from its own environment: the variables secret-envs names go to it.
  const env: NodeJS.ProcessEnv = { ...run.env, ...command.env };
  // The runner masks its own token; masked again in case a self-hosted runner or wrapper does not.
  if (command.env.ACTIONS_RUNTIME_TOKEN) maskSecret(command.env.ACTIONS_RUNTIME_TOKEN);
  for (const variable of options.secretEnvs.values()) env[variable] = process.env[variable];
  for (const note of command.adjustments) core.warning(note);
  let attempts = 0;
  let output = '';
  await retry(
    async (attempt) => {
      attempts = attempt;
      await rm(options.metadataFile, { force: true });
      const result = await execTool('docker', command.args, { env });
      output = result.stdout + result.stderr;
      if (result.exitCode === 0) return;
      const kind = classifyFailure(output);
      const excerpt = failureExcerpt(output);
      if (kind === 'registry-auth') {
        throw new PhaseError(
          'push',
          `the registry refused the credentials or the push:\n${excerpt}`,
          "check 'registry', 'username' and 'password', and that the token may push to this repository",
        );
      }
      throw Object.assign(
        new PhaseError(
          kind === 'build' ? 'build' : 'push',
          `docker buildx build exited ${result.exitCode}:\n${excerpt}`,
        ),
        { kind },
      );
    },
    {
      attempts: run.attempts ?? 3,
      baseDelayMs: run.retryDelayMs ?? 1_000,
      isTransient: (error) => (error as { kind?: string }).kind === 'registry-transient',
      onRetry: (_error, attempt, delay) =>
        core.warning(`push failed transiently (attempt ${attempt}); retrying in ${delay} ms`),
    },
  );
  const metadata = parseMetadata(await readFile(options.metadataFile, 'utf8').catch(() => ''));
  const cache = cacheUse(output);
  for (const failure of cache.exportErrors)
    core.warning(`cache export failed, the image was still pushed (the next build starts colder): ${failure}`);
  return { metadata, cache, attempts, builder };
}

/** The user an image loaded into the docker engine runs as (its config's User, '' for unset). */
export async function localImageUser(imageId: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await execTool('docker', ['image', 'inspect', '--format', '{{json .Config.User}}', imageId], {
    stream: false,
    ...(env ? { env } : {}),
  });
  if (result.exitCode !== 0)
    throw new PhaseError('verify', `cannot inspect the built image ${imageId}: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout.trim() || '""') as string;
}
