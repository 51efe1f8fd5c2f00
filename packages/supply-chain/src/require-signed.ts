import { PhaseError, errorMessage } from '@deploy-suite/action-kit';
import {
  RegistryClient,
  RegistryError,
  isIndex,
  parseReference,
  platformManifests,
  platformText,
  type ImageReference,
  type RegistryApi,
} from '@deploy-suite/oci';
import { describePolicy } from './policy-inputs.js';
import { verifyImage, type SignaturePolicy } from './verify.js';

export interface RequireSignedOptions {
  /** Registry credentials for reading the signatures (the host they are for is checked). */
  credentials?: { username: string; password: string };
  /** What was left untouched when an image is refused, for the message (e.g. "Nothing was applied"). */
  untouched: string;
  log: (message: string) => void;
  /** Registries read over plain HTTP. */
  insecureRegistries?: string[];
  /** An index must carry a valid signature on each platform manifest too (verify-platforms). */
  platforms?: boolean;
}

function registryOf(image: string): string | undefined {
  try {
    return parseReference(image).registry;
  } catch {
    return undefined; // refused with its reason below
  }
}

/**
 * The gate every path that makes a digest live goes through (deploy, manual and automatic rollback):
 * each image must be named by digest and carry a signature that verifies under the policy. Throws a
 * `verify` PhaseError naming the first image refused; returns one line per image verified.
 */
export async function requireSignedImages(
  images: string[],
  policy: SignaturePolicy,
  options: RequireSignedOptions,
): Promise<string[]> {
  const signers: string[] = [];
  // The credentials are for the app image's registry (the first image): a sidecar from another registry
  // is read without them, never handed someone else's password. One client: tokens are reused.
  const home = images[0] ? registryOf(images[0]) : undefined;
  const { credentials } = options;
  const client = new RegistryClient({
    ...(credentials ? { credentials: async (host: string) => (host === home ? credentials : undefined) } : {}),
    insecureHosts: options.insecureRegistries ?? [],
  });
  for (const image of [...new Set(images)]) {
    let ref;
    try {
      ref = parseReference(image);
    } catch (error) {
      throw new PhaseError(
        'verify',
        `'${image}' is not an image reference (${errorMessage(error)}). ${options.untouched}`,
        'name every image of the pod spec as registry/repository@sha256:…',
      );
    }
    if (!ref.digest) {
      throw new PhaseError(
        'verify',
        `${image} is named by tag, not by digest: a tag can move after it is verified. ${options.untouched}`,
        'pin it as name@sha256:… (and sign it), or set verify-all-images: false to verify the app image only',
      );
    }
    const unreadable = (error: unknown): never => {
      const status = error instanceof RegistryError ? error.status : 0;
      throw new PhaseError(
        'verify',
        `cannot read the signatures of ${image} from ${ref.registry} (${errorMessage(error)}). ${options.untouched}`,
        status === 401 || status === 403
          ? 'give registry-username and registry-password that can pull the image'
          : 'check that the registry is reachable from the runner, then re-run: the live release was not touched',
      );
    };
    const result = await verifyImage(client, ref, policy).catch(unreadable);
    if (!result.verified) {
      throw new PhaseError(
        'verify',
        `${image} has no valid signature by ${describePolicy(policy)}: ${result.reasons.join('; ')}. ${options.untouched}`,
        'sign the digest with sbom-and-sign (or cosign sign) using the matching key or workflow identity, or correct the verify inputs',
      );
    }
    options.log(`signature verified for ${image}: ${result.signer} (referrer ${result.manifestDigest})`);
    if (options.platforms) {
      const verified = await requireSignedPlatforms(client, ref, policy, image, options.untouched).catch(
        (error: unknown) => (error instanceof PhaseError ? Promise.reject(error) : unreadable(error)),
      );
      if (verified.length) options.log(`platform signatures verified for ${image}: ${verified.join(', ')}`);
    }
    signers.push(`${image}: ${result.signer ?? ''}`);
  }
  return signers;
}

/**
 * verify-platforms: when the digest names an index, each platform manifest must carry a valid signature
 * too (what `cosign sign --recursive` and sbom-and-sign make), so a node or admission controller that
 * checks the platform digest it pulls finds it signed. Returns the platforms verified ([] for a manifest).
 */
async function requireSignedPlatforms(
  client: RegistryApi,
  ref: ImageReference,
  policy: SignaturePolicy,
  image: string,
  untouched: string,
): Promise<string[]> {
  const top = await client.getManifest(ref, ref.digest);
  if (!isIndex(top.json)) return [];
  const verified: string[] = [];
  for (const child of platformManifests(top.json)) {
    const platform = platformText(child.platform);
    const result = await verifyImage(client, { ...ref, digest: child.digest }, policy);
    if (!result.verified) {
      throw new PhaseError(
        'verify',
        `${image} is an index whose ${platform} manifest ${child.digest} has no valid signature by ${describePolicy(policy)}: ${result.reasons.join('; ')}. ${untouched}`,
        'sign every platform (sbom-and-sign signs each platform of an index; cosign: cosign sign --recursive), or set verify-platforms: false to trust the index signature alone (it pins each platform manifest by digest)',
      );
    }
    verified.push(platform);
  }
  return verified;
}
