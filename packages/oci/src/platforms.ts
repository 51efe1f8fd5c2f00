import type { Descriptor, ImageIndex } from './registry.js';

/** `linux/arm64/v8`, as buildx and the OCI spec write a platform; '' when there is none. */
export function platformText(platform: Descriptor['platform']): string {
  return platform ? [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/') : '';
}

/**
 * Whether an index entry is an attestation manifest rather than an image: BuildKit gives those the
 * platform `unknown/unknown` and the annotation `vnd.docker.reference.type: attestation-manifest`.
 */
export function isAttestationManifest(descriptor: Descriptor): boolean {
  return (
    descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
  );
}

export type PlatformDescriptor = Descriptor & { platform: NonNullable<Descriptor['platform']> };

/** The runnable images of an index: entries with a platform that are not attestation manifests. */
export function platformManifests(index: ImageIndex): PlatformDescriptor[] {
  return index.manifests.filter((d): d is PlatformDescriptor => Boolean(d.platform) && !isAttestationManifest(d));
}
