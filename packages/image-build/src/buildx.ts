import { readFile, rm } from 'node:fs/promises';
import * as core from '@actions/core';
import { PhaseError, execTool, retry } from '@deploy-suite/action-kit';
import {
  buildxArgs,
  capabilitiesOf,
  needsBuilderInspection,
  type BuildOptions,
  type BuilderCapabilities,
} from './build-options.js';
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
  builder?: BuilderCapabilities;
}

export interface RunBuildOptions {
  env?: NodeJS.ProcessEnv;
  /** Attempts when the push fails transiently (the build itself is cached, so a retry redoes the push). */
  attempts?: number;
  retryDelayMs?: number;
}

/** Asks buildx which driver the builder uses; only done when an input depends on it. */
export async function inspectBuilder(
  builder: string | undefined,
  env?: NodeJS.ProcessEnv,
): Promise<BuilderCapabilities> {
  const args = ['buildx', 'inspect', ...(builder ? [builder] : [])];
  const result = await execTool('docker', args, { stream: false, ...(env ? { env } : {}) });
  if (result.exitCode !== 0) {
    throw new PhaseError(
      'build',
      `docker buildx inspect failed: ${result.stderr.trim()}`,
      'check that docker buildx is installed and the builder exists',
    );
  }
  const driver = /^Driver:\s+(\S+)/m.exec(result.stdout)?.[1] ?? 'unknown';
  return capabilitiesOf(driver);
}

export async function runBuild(options: BuildOptions, run: RunBuildOptions = {}): Promise<BuildResult> {
  const builder = needsBuilderInspection(options) ? await inspectBuilder(options.builder, run.env) : undefined;
  if (builder && options.platforms.length > 1 && !builder.multiPlatform) {
    throw new PhaseError(
      'build',
      `the ${builder.driver} driver cannot build several platforms (${options.platforms.join(', ')}) at once`,
      'create a docker-container builder (docker/setup-buildx-action) or build one platform',
    );
  }
  const command = buildxArgs(options, builder);
  // buildx reads `--secret id=…,env=VAR` from its own environment: the variables secret-envs names go to it.
  const env: NodeJS.ProcessEnv = { ...run.env };
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
  return { metadata, cache: cacheUse(output), attempts, ...(builder ? { builder } : {}) };
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
