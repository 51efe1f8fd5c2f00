import type { SerializedBundle } from '@sigstore/bundle';
import { MEDIA_TYPES, RegistryError, isIndex, sha256Digest, type Descriptor, type ImageIndex, type ImageManifest, type ImageReference, type RegistryClient } from '@deploy-suite/oci';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: Buffer.from('{}') };
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

function digestOf(image: ImageReference): string {
  if (!image.digest) throw new Error(`${image.repository} has no digest: signatures attach to a digest, never a tag`);
  return image.digest;
}

/** The tag under which cosign and the OCI 1.1 fallback index the referrers of a digest. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * Pushes a Sigstore bundle as an OCI 1.1 referrer of the image, shaped as cosign 3 pushes it (empty config,
 * the bundle as the one layer, annotations naming its content and predicate type, `subject` the image).
 * When the registry does not index the subject itself, the `sha256-<hex>` tag index is updated too.
 */
export async function attachBundle(
  client: RegistryClient,
  image: ImageReference,
  bundle: SerializedBundle,
  predicateType: string,
  /** The image's manifest descriptor, when the caller has it: saves a request. */
  knownSubject?: Descriptor,
  created = new Date(),
): Promise<AttachedBundle> {
  const digest = digestOf(image);
  const subject = knownSubject ?? (await client.describeManifest(image, digest));
  const tag = fallbackTag(digest);
  // Independent requests side by side; the tag index is read now and written after the manifest exists.
  const [config, layer, existingIndex] = await Promise.all([
    client.putBlob(image, EMPTY_CONFIG.bytes, EMPTY_CONFIG.mediaType),
    // Signatures are randomized: the bundle's bytes are new every time.
    client.putBlob(image, Buffer.from(JSON.stringify(bundle)), BUNDLE_MEDIA_TYPE, { unique: true }),
    readTagIndex(client, image, tag),
  ]);
  const annotations = {
    'dev.sigstore.bundle.content': 'dsseEnvelope' in bundle && bundle.dsseEnvelope ? 'dsse-envelope' : 'message-signature',
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
    subject,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const pushed = await client.putManifest(image, sha256Digest(bytes), bytes, MEDIA_TYPES.ociManifest);
  if (pushed.subjectAccepted) return { manifestDigest: pushed.digest, via: 'referrers-api' };

  const index = existingIndex ?? { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  if (!index.manifests.some((m) => m.digest === pushed.digest)) {
    index.manifests.push({ mediaType: MEDIA_TYPES.ociManifest, digest: pushed.digest, size: bytes.length, artifactType: BUNDLE_MEDIA_TYPE, annotations });
    const indexBytes = Buffer.from(JSON.stringify(index));
    await client.putManifest(image, tag, indexBytes, MEDIA_TYPES.ociIndex);
  }
  return { manifestDigest: pushed.digest, via: 'tag-index', fallbackTag: tag };
}

async function readTagIndex(client: RegistryClient, image: ImageReference, tag: string): Promise<ImageIndex | undefined> {
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
export async function findBundles(client: RegistryClient, image: ImageReference): Promise<StoredBundle[]> {
  const digest = digestOf(image);
  let descriptors: Descriptor[] | undefined = await client.getReferrers(image, digest, BUNDLE_MEDIA_TYPE);
  // cosign writes the fallback entries with the config's artifact type, so the tag index is read unfiltered
  // and each manifest is checked for a bundle layer.
  descriptors ??= (await readTagIndex(client, image, fallbackTag(digest)))?.manifests ?? [];
  const candidates = descriptors.filter((d) => d.mediaType === MEDIA_TYPES.ociManifest).reverse().slice(0, MAX_BUNDLES);
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
    found.push({ manifestDigest: descriptor.digest, predicateType: manifest.annotations?.['dev.sigstore.bundle.predicateType'], bundle });
  }
  return found;
}
