import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { InputError, PhaseError, type Phases } from '@deploy-suite/action-kit';
import { RegistryClient, credentialsFor, repositoryName, type ImageReference } from '@deploy-suite/oci';
import {
  AttestationInputError,
  resolveAttestations,
  type AttestationRequest,
  type ResolvedAttestations,
} from './attestations.js';
import type { BuildOptions } from './build-options.js';
import type { BuildMetadata, CacheUse } from './build-output.js';
import { supports, type BuilderInfo } from './builder.js';
import { inspectBuilder, localImageUser, runBuild } from './buildx.js';
import { loginSession } from './login.js';
import { levelAnnotations, runsAsRoot } from './plan.js';
import { describePushedImage, tagPushedImage, type PlatformImage } from './pushed-image.js';

export interface BuildImageRequest {
  image: ImageReference;
  /** The build, except where its metadata goes (a private temporary folder) and the attestations. */
  options: Omit<BuildOptions, 'metadataFile' | 'provenance' | 'sbom' | 'imageName'>;
  /** Whether the user gave annotations (a builder that cannot write them then warns; the computed ones only inform). */
  userAnnotations: boolean;
  attestations: AttestationRequest;
  privateRepository?: boolean;
  runUrl: string;
  /** Build secrets given as values: written to 0600 files for the build only. */
  secrets: Map<string, string>;
  login?: { registry: string; username: string; password: string };
  /** Refuse (before anything is tagged) an image any platform of which runs as root; otherwise warn. */
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
  /** Each platform's manifest, size and user (attestation manifests are not platforms). */
  images: PlatformImage[];
  builder: BuilderInfo;
  attestations: ResolvedAttestations;
  /** The references that point at the digest now ([] for push-by-digest and when not pushed). */
  tagged: string[];
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
      const run = session ? { env: session.env } : {};
      const builder = await inspectBuilder(request.options.builder, session?.env);
      const attestations = attestationsFor(request, builder);
      for (const note of attestations.notes) core.info(note);
      const secretFiles = new Map(request.options.secretFiles);
      for (const [id, value] of request.secrets) {
        const path = join(temp, `secret-${id}`);
        await writeFile(path, value, { mode: 0o600 });
        await chmod(path, 0o600);
        secretFiles.set(id, path);
      }
      const insecureHosts = request.insecureRegistries ?? [];
      // An index comes out of several platforms or any attestation: index-level annotations then apply too.
      const makesIndex =
        request.options.platforms.length > 1 ||
        (attestations.provenance !== undefined && attestations.provenance !== 'false') ||
        attestations.sbom !== undefined;
      const indexKeys = [...request.options.annotations.keys()].filter((k) => /^index(-descriptor)?[:[]/.test(k));
      if (!makesIndex && indexKeys.length > 0 && request.options.push)
        // BuildKit refuses it only at export ("index annotations not supported for single platform export").
        throw new InputError([
          {
            input: 'annotations',
            problem: `${indexKeys.join(', ')} annotate an index, but this build pushes a single manifest (one platform, no attestation)`,
            fix: 'drop the index: level (the manifest carries it), or build several platforms or keep provenance on',
          },
        ]);
      let annotations = levelAnnotations(request.options.annotations, makesIndex);
      if (!supports(builder, 'annotations') && !request.userAnnotations) {
        if (annotations.size > 0)
          core.info(`the ${builder.driver} driver writes no annotations; the OCI metadata is in the labels`);
        annotations = new Map();
      }
      const options: BuildOptions = {
        ...request.options,
        annotations,
        secretFiles,
        imageName: repositoryName(request.image),
        metadataFile: join(temp, 'metadata.json'),
        ...(attestations.provenance !== undefined ? { provenance: attestations.provenance } : {}),
        ...(attestations.sbom !== undefined ? { sbom: attestations.sbom } : {}),
        ...(insecureHosts.includes(request.image.registry) ? { insecureRegistry: true } : {}),
      };
      const client = new RegistryClient({
        credentials: (host) => credentialsFor(host, session?.configDir),
        insecureHosts,
      });
      // Reach the registry while buildx works, so the checks after the push start warm.
      const warm = options.push ? client.ping(request.image).catch(() => undefined) : undefined;
      const withBuilder = { ...run, builder };

      // The gate runs before anything is tagged. A BuildKit builder pushes by digest, the registry's
      // configs are checked, then the tags are put on that digest; the classic docker driver (one
      // platform) builds and loads first, checks, then pushes from the cache.
      const gateByDigest =
        request.requireNonRoot && options.push && !options.pushByDigest && supports(builder, 'push-by-digest');
      let built;
      if (request.requireNonRoot && options.push && !gateByDigest && !options.pushByDigest) {
        const loaded = await phases.run('build', () =>
          runBuild({ ...options, push: false, load: true, metadataFile: join(temp, 'loaded.json') }, withBuilder),
        );
        const user = await localImageUser(loaded.metadata.configDigest ?? loaded.metadata.digest ?? '', session?.env);
        if (runsAsRoot(user))
          throw rootError([{ platform: options.platforms[0] ?? 'local', user }], 'nothing was pushed');
        built = { ...(await phases.run('push', () => runBuild(options, withBuilder))), cache: loaded.cache };
      } else {
        built = await phases.run('build', () =>
          runBuild(gateByDigest ? { ...options, pushByDigest: true } : options, withBuilder),
        );
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
            return [{ platform: options.platforms[0] ?? 'local', user, size: 0, digest: '' }];
          })
        : [];
      const rootPlatforms = images.filter((i) => runsAsRoot(i.user));
      const untagged = gateByDigest || options.pushByDigest === true;
      if (rootPlatforms.length > 0) {
        if (request.requireNonRoot)
          throw rootError(
            rootPlatforms,
            untagged
              ? `nothing was tagged: ${repositoryName(request.image)}@${digest} stays untagged until the registry's garbage collection`
              : 'it was pushed before the check',
          );
        core.warning(
          `the image runs as root (${rootPlatforms.map((i) => i.platform).join(', ')}); add a USER instruction with a non-root uid, and set require-non-root: true to enforce it`,
        );
      }
      let tagged = options.push && !options.pushByDigest ? options.tags : [];
      if (gateByDigest) {
        tagged = await phases.run('tag', () => tagPushedImage(client, request.image, digest, options.tags));
      }
      return {
        digest,
        metadata: built.metadata,
        cache: built.cache,
        attempts: built.attempts,
        images,
        builder,
        attestations,
        tagged,
      };
    } finally {
      await session?.close();
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function attestationsFor(request: BuildImageRequest, builder: BuilderInfo): ResolvedAttestations {
  try {
    return resolveAttestations(request.attestations, {
      builder,
      load: request.options.load,
      privateRepository: request.privateRepository,
      runUrl: request.runUrl,
    });
  } catch (error) {
    if (error instanceof AttestationInputError)
      throw new InputError([{ input: error.input, problem: error.message, fix: error.fix }]);
    throw error;
  }
}

function rootError(platforms: { platform: string; user: string }[], what: string): PhaseError {
  const list = platforms.map((p) => `${p.platform}: User '${p.user || 'unset'}'`).join(', ');
  return new PhaseError(
    'verify',
    `the image runs as root (${list}) and require-non-root is true; ${what}`,
    'add `USER <non-root uid>` to the final stage of the Dockerfile',
  );
}
