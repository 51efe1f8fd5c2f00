import type { SerializedBundle } from '@sigstore/bundle';
import {
  MEDIA_TYPES,
  RegistryError,
  isIndex,
  sha256Digest,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type ImageReference,
  type RegistryApi,
} from '@deploy-suite/oci';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const EMPTY_CONFIG_BYTES = Buffer.from('{}');
const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: sha256Digest(EMPTY_CONFIG_BYTES),
  size: EMPTY_CONFIG_BYTES.length,
};
/** Bundles read per digest at most: each is a manifest and a blob request. */
const MAX_BUNDLES = 64;

export interface AttachedBundle {
  /** Digest of the referrer manifest that carries the bundle. */
  manifestDigest: string;
  /** How a reader finds it: the registry's referrers API, or the `sha256-<hex>` tag index. */
  via: 'referrers-api' | 'tag-index';
  fallbackTag?: string;
}

export interface StoredBundle {
  manifestDigest: string;
  predicateType: string | undefined;
  bundle: unknown;
}

function subjectDigest(image: ImageReference): string {
  if (!image.digest) throw new Error(`${image.repository} has no digest: signatures attach to a digest, never a tag`);
  return image.digest;
}

/** The tag under which cosign and the OCI 1.1 fallback index the referrers of a digest. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * Attaches Sigstore bundles to one image as OCI 1.1 referrers, shaped as cosign 3 pushes them (empty config,
 * the bundle as the one layer, annotations naming its content and predicate type, `subject` the image).
 * When the registry does not index the subject itself, the `sha256-<hex>` tag index is updated too.
 *
 * `open` does the reading and the upload sessions before any bundle exists (for a key: while scrypt opens
 * it), so each `attach` is the writes a signature needs and no more: its blob, its manifest, the index.
 * `close` cancels upload sessions left unused (a failed run).
 */
export class ReferrerWriter {
  private constructor(
    private readonly client: RegistryApi,
    private readonly image: ImageReference & { digest: string },
    private readonly subject: Descriptor,
    private configPresent: boolean,
    /** The tag index as read at open and as this writer last wrote it. */
    private index: ImageIndex | undefined,
    private readonly sessions: string[],
  ) {}

  static async open(
    client: RegistryApi,
    image: ImageReference,
    options: { subject?: Descriptor; uploads?: number } = {},
  ): Promise<ReferrerWriter> {
    const digest = subjectDigest(image);
    // All at once: the sessions, the subject, whether the empty config is there, the tag index.
    const opening = Promise.allSettled(Array.from({ length: options.uploads ?? 1 }, () => client.startUpload(image)));
    const reading = Promise.all([
      options.subject ?? client.describeManifest(image, digest),
      client.hasBlob(image, EMPTY_CONFIG.digest),
      readTagIndex(client, image, fallbackTag(digest)),
    ]);
    reading.catch(() => undefined);
    const opened = await opening;
    const sessions = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      const rejected = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (rejected) throw rejected.reason;
      const [subject, configPresent, index] = await reading;
      return new ReferrerWriter(client, { ...image, digest }, subject, configPresent, index, sessions);
    } catch (error) {
      await cancelAll(client, image, sessions);
      throw error;
    }
  }

  async attach(bundle: SerializedBundle, predicateType: string, created = new Date()): Promise<AttachedBundle> {
    const { client, image } = this;
    const bundleBytes = Buffer.from(JSON.stringify(bundle));
    const session = this.sessions.shift();
    // Signatures are randomized: the bundle's bytes are new every time, no existence check.
    const [config, layer] = await Promise.all([
      this.configPresent ? EMPTY_CONFIG : client.putBlob(image, EMPTY_CONFIG_BYTES, EMPTY_CONFIG.mediaType),
      session
        ? client.finishUpload(image, session, bundleBytes, BUNDLE_MEDIA_TYPE)
        : client.putBlob(image, bundleBytes, BUNDLE_MEDIA_TYPE, { unique: true }),
    ]);
    this.configPresent = true;
    const annotations = {
      'dev.sigstore.bundle.content':
        'dsseEnvelope' in bundle && bundle.dsseEnvelope ? 'dsse-envelope' : 'message-signature',
      'dev.sigstore.bundle.predicateType': predicateType,
      'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: BUNDLE_MEDIA_TYPE,
      config,
      layers: [layer],
      annotations,
      subject: this.subject,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const pushed = await client.putManifest(image, sha256Digest(bytes), bytes, MEDIA_TYPES.ociManifest);
    if (pushed.subjectAccepted) return { manifestDigest: pushed.digest, via: 'referrers-api' };

    const tag = fallbackTag(image.digest);
    const index: ImageIndex = this.index ?? { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
    if (!index.manifests.some((m) => m.digest === pushed.digest)) {
      const updated = {
        ...index,
        manifests: [
          ...index.manifests,
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: pushed.digest,
            size: bytes.length,
            artifactType: BUNDLE_MEDIA_TYPE,
            annotations,
          },
        ],
      };
      await client.putManifest(image, tag, Buffer.from(JSON.stringify(updated)), MEDIA_TYPES.ociIndex);
      this.index = updated;
    }
    return { manifestDigest: pushed.digest, via: 'tag-index', fallbackTag: tag };
  }

  /** Cancels the upload sessions no attach used. Best effort: the registry expires them anyway. */
  async close(): Promise<void> {
    await cancelAll(this.client, this.image, this.sessions.splice(0));
  }
}

async function cancelAll(client: RegistryApi, image: ImageReference, sessions: string[]): Promise<void> {
  await Promise.allSettled(sessions.map((session) => client.cancelUpload(image, session)));
}

/** One bundle attached: a writer opened for it, used once, closed. */
export async function attachBundle(
  client: RegistryApi,
  image: ImageReference,
  bundle: SerializedBundle,
  predicateType: string,
  /** The image's manifest descriptor, when the caller has it: saves a request. */
  knownSubject?: Descriptor,
  created = new Date(),
): Promise<AttachedBundle> {
  const writer = await ReferrerWriter.open(client, image, knownSubject ? { subject: knownSubject } : {});
  try {
    return await writer.attach(bundle, predicateType, created);
  } finally {
    await writer.close();
  }
}

async function readTagIndex(client: RegistryApi, image: ImageReference, tag: string): Promise<ImageIndex | undefined> {
  try {
    const fetched = await client.getManifest(image, tag);
    return isIndex(fetched.json) ? fetched.json : undefined;
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Every Sigstore bundle attached to the image's digest, newest first: from the referrers API when the
 * registry has one, else from the tag index. Entries are not trusted here: the verifier checks each.
 */
export async function findBundles(client: RegistryApi, image: ImageReference): Promise<StoredBundle[]> {
  const digest = subjectDigest(image);
  let descriptors: Descriptor[] | undefined = await client.getReferrers(image, digest, BUNDLE_MEDIA_TYPE);
  // cosign writes the fallback entries with the config's artifact type, so the tag index is read unfiltered
  // and each manifest is checked for a bundle layer.
  descriptors ??= (await readTagIndex(client, image, fallbackTag(digest)))?.manifests ?? [];
  const candidates = descriptors
    .filter((d) => d.mediaType === MEDIA_TYPES.ociManifest)
    .reverse()
    .slice(0, MAX_BUNDLES);
  const found: StoredBundle[] = [];
  for (const descriptor of candidates) {
    const fetched = await client.getManifest(image, descriptor.digest);
    if (isIndex(fetched.json)) continue;
    const manifest = fetched.json;
    const layer = manifest.layers.find((l) => l.mediaType === BUNDLE_MEDIA_TYPE);
    if (manifest.artifactType !== BUNDLE_MEDIA_TYPE || !layer || manifest.subject?.digest !== digest) continue;
    const bytes = await client.getBlob(image, layer.digest);
    let bundle: unknown;
    try {
      bundle = JSON.parse(bytes.toString('utf8'));
    } catch {
      continue;
    }
    found.push({
      manifestDigest: descriptor.digest,
      predicateType: manifest.annotations?.['dev.sigstore.bundle.predicateType'],
      bundle,
    });
  }
  return found;
}
