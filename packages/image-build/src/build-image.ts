import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { PhaseError, type Phases } from '@deploy-suite/action-kit';
import { RegistryClient, credentialsFor, type ImageReference } from '@deploy-suite/oci';
import type { BuildOptions } from './build-options.js';
import type { BuildMetadata, CacheUse } from './build-output.js';
import { localImageUser, runBuild } from './buildx.js';
import { loginSession } from './login.js';
import { runsAsRoot } from './plan.js';
import { describePushedImage, type PlatformImage } from './pushed-image.js';

export interface BuildImageRequest {
  image: ImageReference;
  /** The build, except where its metadata goes (a private temporary folder). */
  options: Omit<BuildOptions, 'metadataFile'>;
  /** Build secrets given as values: written to 0600 files for the build only. */
  secrets: Map<string, string>;
  login?: { registry: string; username: string; password: string };
  /** Refuse (before anything is pushed) an image whose config runs as root; otherwise warn. */
  requireNonRoot: boolean;
  /** Registries spoken to over plain HTTP (insecure-registries): the checks after the push, and BuildKit's push. */
  insecureRegistries?: string[];
}

export interface BuiltImage {
  /**
   * What buildx reported: the pushed manifest (or index) digest when push is true, otherwise the image's id
   * in the local engine (load: true, or the docker driver), '' when the build stayed in the build cache.
   */
  digest: string;
  metadata: BuildMetadata;
  cache: CacheUse;
  /** Build invocations the push needed (more than 1 after transient registry failures). */
  attempts: number;
  images: PlatformImage[];
}

/**
 * Builds and pushes an image in phases (login, build, push, verify), and always leaves nothing behind:
 * the login lives in a private docker config and the secret files in a private folder, both removed.
 */
export async function buildImage(request: BuildImageRequest, phases: Phases): Promise<BuiltImage> {
  const temp = await mkdtemp(join(tmpdir(), 'deploy-suite-build-'));
  try {
    const session = request.login
      ? await phases.run('login', () =>
          loginSession(request.login!.registry, request.login!.username, request.login!.password),
        )
      : undefined;
    try {
      const secretFiles = new Map(request.options.secretFiles);
      for (const [id, value] of request.secrets) {
        const path = join(temp, `secret-${id}`);
        await writeFile(path, value, { mode: 0o600 });
        await chmod(path, 0o600);
        secretFiles.set(id, path);
      }
      const insecureHosts = request.insecureRegistries ?? [];
      const options: BuildOptions = {
        ...request.options,
        secretFiles,
        metadataFile: join(temp, 'metadata.json'),
        ...(insecureHosts.includes(request.image.registry) ? { insecureRegistry: true } : {}),
      };
      const run = session ? { env: session.env } : {};
      const client = new RegistryClient({
        credentials: (host) => credentialsFor(host, session?.configDir),
        insecureHosts,
      });
      // Reach the registry while buildx works, so the checks after the push start warm.
      const warm = options.push ? client.ping(request.image).catch(() => undefined) : undefined;

      let built;
      if (request.requireNonRoot && options.push) {
        // The gate runs before anything is pushed: build and load first, check, then push from the cache.
        const loaded = await phases.run('build', () =>
          runBuild({ ...options, push: false, load: true, metadataFile: join(temp, 'loaded.json') }, run),
        );
        const user = await localImageUser(loaded.metadata.configDigest ?? loaded.metadata.digest ?? '', session?.env);
        if (runsAsRoot(user)) throw rootError(user);
        built = { ...(await phases.run('push', () => runBuild(options, run))), cache: loaded.cache };
      } else {
        built = await phases.run('build', () => runBuild(options, run));
      }
      const digest = built.metadata.digest ?? '';
      if (!digest && (options.push || options.load)) {
        throw new PhaseError(
          'build',
          `buildx reported no image digest: nothing was ${options.push ? 'pushed' : 'loaded'}`,
          "check the builder's output above; buildx writes the digest to its metadata file once the image is exported",
        );
      }
      // Not pushed: a docker-driver build or load: true leaves an image in the engine; a build cache
      // alone (push and load false on another driver) leaves nothing to inspect.
      const images = digest
        ? await phases.run('verify', async () => {
            if (options.push) {
              await warm;
              return describePushedImage(client, request.image, digest, built.metadata.configDigest);
            }
            const user = await localImageUser(built.metadata.configDigest ?? digest, session?.env);
            return [{ platform: options.platforms[0] ?? 'local', user, size: 0 }];
          })
        : [];
      const rootPlatforms = images.filter((i) => runsAsRoot(i.user));
      if (rootPlatforms.length > 0) {
        if (request.requireNonRoot) throw rootError(rootPlatforms[0]!.user);
        core.warning(
          `the image runs as root (${rootPlatforms.map((i) => i.platform).join(', ')}); add a USER instruction with a non-root uid, and set require-non-root: true to enforce it`,
        );
      }
      return { digest, metadata: built.metadata, cache: built.cache, attempts: built.attempts, images };
    } finally {
      await session?.close();
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function rootError(user: string): PhaseError {
  return new PhaseError(
    'verify',
    `the image runs as root (config User '${user || 'unset'}') and require-non-root is true; nothing was pushed`,
    'add `USER <non-root uid>` to the final stage of the Dockerfile',
  );
}
