import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import type { ImageReference, RegistryApi } from '@deploy-suite/oci';
import type { VerificationKey } from './cosign-key.js';
import { extensionText, identityMismatch, type CertificateIdentity, type IdentityPolicy } from './identity.js';
import { findBundles } from './referrers.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPES,
  parseStatement,
  statementCovers,
  type InTotoStatement,
} from './statement.js';

/** Who must have signed: the holder of a public key, or a certificate identity from a trusted Fulcio. */
export type SignaturePolicy =
  | { kind: 'key'; key: VerificationKey }
  | (IdentityPolicy & {
      kind: 'identity';
      /** Sigstore trusted root (JSON, as `cosign trusted-root create` or TUF deliver it). */
      trustedRoot: unknown;
    });

export interface VerifiedBundle {
  statement: InTotoStatement;
  /** The certificate identity (keyless) or the key hint that verified it. */
  signer: string;
}

export interface ImageVerification {
  verified: boolean;
  digest: string;
  predicateType: string;
  /** The referrer manifest whose bundle verified. */
  manifestDigest?: string;
  signer?: string;
  statement?: InTotoStatement;
  /** Bundles looked at. */
  checked: number;
  /** Why each bundle was refused, or why none was found. Empty when verified. */
  reasons: string[];
}

const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

function verifierFor(policy: SignaturePolicy): Verifier {
  if (policy.kind === 'key') {
    // The bundle's hint only names a key; the policy's key is the one that counts, at any time (offline, no tlog).
    const trust: TrustMaterial = toTrustMaterial(TrustedRoot.fromJSON(EMPTY_ROOT), () => ({
      publicKey: policy.key.publicKey,
      validFor: () => true,
    }));
    return new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  }
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(policy.trustedRoot)), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
}

/**
 * Verifies one serialized bundle against the policy and says what it signed. Throws with the reason when
 * it does not verify, does not cover the digest, or carries another predicate type.
 */
export function verifyBundle(
  json: unknown,
  digest: string,
  policy: SignaturePolicy,
  predicateType: string,
  verifier = verifierFor(policy),
): VerifiedBundle {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    throw new Error(`not a valid Sigstore bundle: ${(error as Error).message}`);
  }
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('the bundle signs a message, not an in-toto statement');
  const envelope = bundle.content.dsseEnvelope;
  const material = bundle.verificationMaterial.content;
  if (policy.kind === 'key' && material.$case !== 'publicKey')
    throw new Error('signed keyless (certificate), but the policy asks for a key');
  if (policy.kind === 'identity' && material.$case === 'publicKey')
    throw new Error('signed with a key, but the policy asks for a certificate identity');
  let signer: string;
  let identity: CertificateIdentity | undefined;
  try {
    // The certificate chain, SCT and log entry only: the identity is decided below, exactly (sigstore-js
    // matches a subject policy as an unanchored regular expression).
    const result = verifier.verify(toSignedEntity(bundle));
    identity = {
      ...(result.identity?.subjectAlternativeName !== undefined
        ? { subjectAlternativeName: result.identity.subjectAlternativeName }
        : {}),
      ...(result.identity?.extensions?.issuer !== undefined ? { issuer: result.identity.extensions.issuer } : {}),
      extensions: Object.fromEntries(
        (result.identity?.oids ?? []).map((o) => {
          const oid = (o.oid?.id ?? []).join('.');
          return [oid, extensionText(oid, o.value)];
        }),
      ),
    };
    signer =
      policy.kind === 'key'
        ? `key ${policy.key.hint}`
        : `${identity.subjectAlternativeName ?? '?'} (issuer ${identity.issuer ?? '?'})`;
  } catch (error) {
    throw new Error(`signature does not verify: ${(error as Error).message}`);
  }
  if (policy.kind === 'identity') {
    const mismatch = identityMismatch(policy, identity);
    if (mismatch) throw new Error(`untrusted signer: ${mismatch}`);
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw new Error(`payload type '${envelope.payloadType}' is not an in-toto statement`);
  const statement = parseStatement(envelope.payload);
  if (!statement) throw new Error('the signed payload is not an in-toto statement');
  if (!statementCovers(statement, digest)) throw new Error(`the signed statement names another digest, not ${digest}`);
  if (statement.predicateType !== predicateType)
    throw new Error(`predicate type '${statement.predicateType}', expected '${predicateType}'`);
  return { statement, signer };
}

/**
 * The verifier the suite's actions share: finds the bundles attached to the image's digest (referrers
 * API or tag index) and says whether one of them is a valid signature under the policy, or why not.
 */
export async function verifyImage(
  client: RegistryApi,
  image: ImageReference,
  policy: SignaturePolicy,
  predicateType: string = PREDICATE_TYPES.signature,
): Promise<ImageVerification> {
  const digest = image.digest;
  if (!digest) throw new Error(`${image.repository} has no digest: verify a digest (image@sha256:…), never a tag`);
  const stored = await findBundles(client, image);
  const candidates = stored.filter((s) => s.predicateType === undefined || s.predicateType === predicateType);
  const reasons: string[] = [];
  const verifier = verifierFor(policy);
  for (const candidate of candidates) {
    try {
      const verified = verifyBundle(candidate.bundle, digest, policy, predicateType, verifier);
      return {
        verified: true,
        digest,
        predicateType,
        manifestDigest: candidate.manifestDigest,
        signer: verified.signer,
        statement: verified.statement,
        checked: candidates.length,
        reasons: [],
      };
    } catch (error) {
      reasons.push(`${candidate.manifestDigest.slice(0, 19)}: ${(error as Error).message}`);
    }
  }
  if (candidates.length === 0) {
    reasons.push(
      stored.length
        ? `${stored.length} Sigstore bundle(s) attached, none with predicate type ${predicateType}`
        : `no Sigstore bundle is attached to ${digest}`,
    );
  }
  return { verified: false, digest, predicateType, checked: candidates.length, reasons };
}
