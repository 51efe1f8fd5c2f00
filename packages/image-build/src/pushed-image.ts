import { PhaseError } from '@deploy-suite/action-kit';
import {
  isIndex,
  platformManifests,
  platformText,
  type ImageConfig,
  type ImageManifest,
  type ImageReference,
  type RegistryClient,
} from '@deploy-suite/oci';

export interface PlatformImage {
  platform: string;
  /** The platform's own manifest digest ('' for an image only in the local engine). */
  digest: string;
  user: string;
  /** Compressed size: config and layers as stored in the registry. */
  size: number;
}

/**
 * What the registry holds under a digest: each platform's user and size (attestation manifests skipped).
 * With the config digest buildx reported, the manifest and the config are read at once.
 */
export async function describePushedImage(
  client: RegistryClient,
  image: ImageReference,
  digest: string,
  configDigest?: string,
): Promise<PlatformImage[]> {
  const ref = { ...image, digest };
  const [top, config] = await Promise.all([
    client.getManifest(ref, digest),
    configDigest ? client.getJsonBlob<ImageConfig>(ref, configDigest).catch(() => undefined) : undefined,
  ]);
  if (config && !isIndex(top.json) && top.json.config.digest === configDigest) {
    const manifest = top.json;
    const size = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
    return [
      {
        platform: [config.os, config.architecture].filter(Boolean).join('/'),
        digest,
        user: config.config?.User ?? '',
        size,
      },
    ];
  }
  const manifests: { platform: string; digest: string; manifest: ImageManifest }[] = [];
  if (isIndex(top.json)) {
    const children = platformManifests(top.json);
    const fetched = await Promise.all(children.map((d) => client.getManifest(ref, d.digest)));
    fetched.forEach((m, i) => {
      manifests.push({
        platform: platformText(children[i]!.platform),
        digest: children[i]!.digest,
        manifest: m.json as ImageManifest,
      });
    });
  } else {
    manifests.push({ platform: '', digest, manifest: top.json });
  }
  return Promise.all(
    manifests.map(async ({ platform, digest: manifestDigest, manifest }) => {
      const config = await client.getImageConfig(ref, manifest);
      const size = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
      return {
        platform: platform || [config.os, config.architecture].filter(Boolean).join('/'),
        digest: manifestDigest,
        user: config.config?.User ?? '',
        size,
      };
    }),
  );
}

/** The tag of a full reference (name:tag), where the name may have a registry port. */
export function tagOf(reference: string): string {
  return reference.slice(reference.lastIndexOf(':') + 1);
}

/**
 * Points each tag at a pushed digest: the manifest's own bytes PUT under the tag, so every tag resolves to
 * exactly that digest. Returns the references tagged.
 */
export async function tagPushedImage(
  client: RegistryClient,
  image: ImageReference,
  digest: string,
  references: string[],
): Promise<string[]> {
  const ref = { ...image, digest };
  const manifest = await client.getManifest(ref, digest);
  for (const reference of references) {
    const put = await client.putManifest(ref, tagOf(reference), manifest.bytes, manifest.mediaType);
    if (put.digest !== digest)
      throw new PhaseError('tag', `the registry stored ${reference} as ${put.digest}, not ${digest}`);
  }
  return references;
}
