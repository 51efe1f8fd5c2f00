import {
  isIndex,
  type ImageConfig,
  type ImageManifest,
  type ImageReference,
  type RegistryClient,
} from '@deploy-suite/oci';

export interface PlatformImage {
  platform: string;
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
      { platform: [config.os, config.architecture].filter(Boolean).join('/'), user: config.config?.User ?? '', size },
    ];
  }
  const manifests: { platform: string; manifest: ImageManifest }[] = [];
  if (isIndex(top.json)) {
    const children = top.json.manifests.filter((d) => d.platform && d.platform.os !== 'unknown');
    const fetched = await Promise.all(children.map((d) => client.getManifest(ref, d.digest)));
    fetched.forEach((m, i) => {
      const p = children[i]!.platform!;
      manifests.push({
        platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/'),
        manifest: m.json as ImageManifest,
      });
    });
  } else {
    manifests.push({ platform: '', manifest: top.json });
  }
  return Promise.all(
    manifests.map(async ({ platform, manifest }) => {
      const config = await client.getImageConfig(ref, manifest);
      const size = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
      return {
        platform: platform || [config.os, config.architecture].filter(Boolean).join('/'),
        user: config.config?.User ?? '',
        size,
      };
    }),
  );
}
