import {
  isAttestationManifest,
  isIndex,
  platformManifests,
  platformText,
  type Descriptor,
  type FetchedManifest,
} from '@deploy-suite/oci';
import type { Finding } from './findings.js';

/** One image the SBOM and the scan describe: a platform of an index, or the single manifest itself. */
export interface ImageTarget {
  /** `linux/arm64`; '' for a single manifest (its platform is in its config, not read here). */
  platform: string;
  digest: string;
  /** The file stem of its SBOMs and report: the image's, with the platform for an index. */
  stem: string;
}

export interface ImageTargets {
  /** What the digest names: the descriptor a referrer's `subject` carries. */
  subject: Descriptor;
  index: boolean;
  targets: ImageTarget[];
  /** Index entries that are not images (attestation manifests, entries without a platform), with why. */
  skipped: { digest: string; why: string }[];
}

/** `linux/arm64/v8` → `linux-arm64-v8`: a file-name-safe platform. */
export function platformSlug(platform: string): string {
  return platform.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

/**
 * What to describe and sign under a digest. An index (buildx pushes one for every build with provenance,
 * and for every multi-platform build) is each of its platform images, as `cosign sign --recursive` and
 * a `--platform` scan per architecture would see them; a single manifest is itself.
 */
export function imageTargets(fetched: FetchedManifest, stem: string): ImageTargets {
  const subject: Descriptor = { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  if (!isIndex(fetched.json))
    return { subject, index: false, targets: [{ platform: '', digest: fetched.digest, stem }], skipped: [] };
  const images = platformManifests(fetched.json);
  const targets = images.map((d) => {
    const platform = platformText(d.platform);
    return { platform, digest: d.digest, stem: `${stem}-${platformSlug(platform)}` };
  });
  // What platformManifests leaves out: attestation manifests and entries without a platform.
  const skipped = fetched.json.manifests
    .filter((d) => !targets.some((t) => t.digest === d.digest))
    .map((d) => {
      const of = d.annotations?.['vnd.docker.reference.digest'];
      return {
        digest: d.digest,
        why: isAttestationManifest(d) ? `attestation manifest${of ? ` of ${of}` : ''}` : 'an entry without a platform',
      };
    });
  return { subject, index: true, targets, skipped };
}

export type PlatformFinding = Finding & { platforms: string[] };

/**
 * The findings of every platform as one list for the gate: a vulnerability of the same package version
 * found on two platforms is one finding (counted once, ignored once), naming the platforms it is on.
 */
export function unionFindings(parts: { platform: string; findings: Finding[] }[]): PlatformFinding[] {
  const byKey = new Map<string, PlatformFinding>();
  for (const { platform, findings } of parts) {
    for (const finding of findings) {
      const key = `${finding.id}\u0000${finding.package}\u0000${finding.installed}`;
      const known = byKey.get(key);
      if (!known) byKey.set(key, { ...finding, platforms: platform ? [platform] : [] });
      else if (platform && !known.platforms.includes(platform)) known.platforms.push(platform);
    }
  }
  return [...byKey.values()];
}
