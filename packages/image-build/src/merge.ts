import * as core from '@actions/core';
import { PhaseError, maskSecret, type Phases } from '@deploy-suite/action-kit';
import {
  MEDIA_TYPES,
  RegistryClient,
  credentialsFor,
  isAttestationManifest,
  isIndex,
  platformText,
  repositoryName,
  sha256Digest,
  type Descriptor,
  type FetchedManifest,
  type ImageConfig,
  type ImageIndex,
  type ImageReference,
} from '@deploy-suite/oci';
import { ANNOTATION_LEVEL, runsAsRoot } from './plan.js';
import { describePushedImage, tagOf, type PlatformImage } from './pushed-image.js';

/** One push-by-digest job's result as the registry holds it. */
export interface MergePart {
  digest: string;
  manifest: FetchedManifest;
  /** A single manifest's platform, from its config (an index's children carry their own). */
  config?: ImageConfig;
}

export class MergeError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'MergeError';
  }
}

/**
 * The index that joins the parts: each part's platform manifests and the attestation manifests that
 * describe them (as `buildx imagetools create` flattens indexes), the index-level annotations on top.
 * Two parts of the same platform, or a part with no platform, are refused: the index would be ambiguous.
 */
export function composeIndex(parts: MergePart[], annotations: Map<string, string>): Buffer {
  const manifests: Descriptor[] = [];
  const seen = new Map<string, string>();
  const add = (descriptor: Descriptor, from: string) => {
    const platform = platformText(descriptor.platform);
    if (platform && !isAttestationManifest(descriptor)) {
      const other = seen.get(platform);
      if (other)
        throw new MergeError(
          `${other} and ${from} both hold ${platform}`,
          'give each platform once: one digest per matrix job, each job building its own platform',
        );
      seen.set(platform, from);
    }
    if (!manifests.some((m) => m.digest === descriptor.digest)) manifests.push(descriptor);
  };
  for (const part of parts) {
    const json = part.manifest.json;
    if (isIndex(json)) {
      for (const child of json.manifests) add(child, part.digest);
    } else {
      const os = part.config?.os;
      const architecture = part.config?.architecture;
      if (!os || !architecture)
        throw new MergeError(
          `${part.digest} is an image without os/architecture in its config`,
          'push each platform with buildx (--platform), which records its platform',
        );
      const variant = (part.config as { variant?: string } | undefined)?.variant;
      add(
        {
          mediaType: part.manifest.mediaType,
          digest: part.digest,
          size: part.manifest.bytes.length,
          platform: { os, architecture, ...(variant ? { variant } : {}) },
        },
        part.digest,
      );
    }
  }
  const indexAnnotations: Record<string, string> = {};
  for (const [key, value] of annotations) {
    if (key.startsWith('index:')) indexAnnotations[key.slice('index:'.length)] = value;
    else if (!ANNOTATION_LEVEL.test(key)) indexAnnotations[key] = value;
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests,
    ...(Object.keys(indexAnnotations).length > 0 ? { annotations: indexAnnotations } : {}),
  };
  return Buffer.from(JSON.stringify(index));
}

export interface MergeRequest {
  image: ImageReference;
  digests: string[];
  /** Full references (name:tag) the index is pushed under. */
  references: string[];
  annotations: Map<string, string>;
  login?: { registry: string; username: string; password: string };
  requireNonRoot: boolean;
  insecureRegistries?: string[];
}

export interface MergedImage {
  digest: string;
  images: PlatformImage[];
  /** Attestation manifests carried over (provenance, SBOM) from the parts. */
  attestations: number;
  tagged: string[];
}

/**
 * The merge job of native per-arch runners: reads each job's push by digest, checks every platform's
 * user (before anything is tagged), and pushes one index under the tag rules' tags. Nothing is built;
 * the registry client speaks to the registry directly, so the job needs no buildx or checkout.
 */
export async function mergeImage(request: MergeRequest, phases: Phases): Promise<MergedImage> {
  const login = request.login;
  if (login) maskSecret(login.password);
  const client = new RegistryClient({
    credentials: async (host) =>
      login && host === login.registry ? { username: login.username, password: login.password } : credentialsFor(host),
    insecureHosts: request.insecureRegistries ?? [],
  });
  const name = repositoryName(request.image);
  const { parts, images } = await phases.run('verify', async () => {
    const fetched = await Promise.all(
      request.digests.map(async (digest): Promise<MergePart> => {
        const ref = { ...request.image, digest };
        let manifest: FetchedManifest;
        try {
          manifest = await client.getManifest(ref, digest);
        } catch (error) {
          throw new PhaseError(
            'verify',
            `${name}@${digest} cannot be read: ${(error as Error).message}`,
            "check 'digests' (each push-by-digest job's digest output) and that the jobs pushed to this image",
          );
        }
        const config = isIndex(manifest.json) ? undefined : await client.getImageConfig(ref, manifest.json);
        return { digest, manifest, ...(config ? { config } : {}) };
      }),
    );
    const described = await Promise.all(request.digests.map((d) => describePushedImage(client, request.image, d)));
    return { parts: fetched, images: described.flat() };
  });
  const root = images.filter((i) => runsAsRoot(i.user));
  if (root.length > 0) {
    const list = root.map((i) => `${i.platform}: User '${i.user || 'unset'}'`).join(', ');
    if (request.requireNonRoot)
      throw new PhaseError(
        'verify',
        `the image runs as root (${list}) and require-non-root is true; nothing was tagged`,
        'add `USER <non-root uid>` to the final stage of the Dockerfile',
      );
    core.warning(`the image runs as root (${list}); set require-non-root: true to enforce a non-root user`);
  }
  let bytes: Buffer;
  try {
    bytes = composeIndex(parts, request.annotations);
  } catch (error) {
    if (error instanceof MergeError) throw new PhaseError('merge', error.message, error.fix);
    throw error;
  }
  const digest = sha256Digest(bytes);
  const index = JSON.parse(bytes.toString('utf8')) as ImageIndex;
  const tagged = await phases.run('push', async () => {
    const ref = { ...request.image, digest };
    await client.putManifest(ref, digest, bytes, MEDIA_TYPES.ociIndex);
    for (const reference of request.references)
      await client.putManifest(ref, tagOf(reference), bytes, MEDIA_TYPES.ociIndex);
    return request.references;
  });
  return {
    digest,
    images,
    attestations: index.manifests.filter((m) => m.platform?.os === 'unknown').length,
    tagged,
  };
}
