// Keyless signer identity: which certificate subjects and Fulcio claims a policy accepts. Pure.
//
// sigstore-js matches a policy's subject with `san.match(identity)`, an unanchored regular expression even
// when the caller meant an exact string: `…@refs/heads/main` then accepts `…@refs/heads/main-attacker`.
// The suite asks sigstore-js for the signature and the certificate chain only, and decides the identity
// here: exact strings compare equal, patterns must match the whole subject.

/** The GitHub Actions claims Fulcio writes into a certificate, as cosign's --certificate-github-workflow-* flags name them. */
export interface GitHubClaims {
  /** The repository whose workflow run signed, owner/name (OID 1.3.6.1.4.1.57264.1.5). */
  repository?: string;
  /** The git ref of that run, e.g. refs/heads/main (1.3.6.1.4.1.57264.1.6). */
  ref?: string;
  /** The commit of that run (1.3.6.1.4.1.57264.1.3). */
  sha?: string;
  /** The event that started it, e.g. push (1.3.6.1.4.1.57264.1.2). */
  trigger?: string;
  /** The workflow's name (1.3.6.1.4.1.57264.1.4). */
  name?: string;
}

export type GitHubClaim = keyof GitHubClaims;

/** Fulcio's legacy GitHub extensions (raw bytes, not DER): the ones cosign's flags check. */
export const GITHUB_CLAIM_OIDS: Record<GitHubClaim, string> = {
  trigger: '1.3.6.1.4.1.57264.1.2',
  sha: '1.3.6.1.4.1.57264.1.3',
  name: '1.3.6.1.4.1.57264.1.4',
  repository: '1.3.6.1.4.1.57264.1.5',
  ref: '1.3.6.1.4.1.57264.1.6',
};

/** cosign's flag for each claim, for messages and for tests that run cosign with the same policy. */
export const GITHUB_CLAIM_FLAGS: Record<GitHubClaim, string> = {
  repository: 'certificate-github-workflow-repository',
  ref: 'certificate-github-workflow-ref',
  sha: 'certificate-github-workflow-sha',
  trigger: 'certificate-github-workflow-trigger',
  name: 'certificate-github-workflow-name',
};

export interface IdentityPolicy {
  /** An exact subject alternative name, or a pattern the whole subject must match. */
  identity: string | RegExp;
  /** The OIDC issuer, compared exactly. */
  issuer: string;
  /** Claims the certificate must carry, each compared exactly. */
  claims?: GitHubClaims;
}

/** What a verified certificate says about its signer. */
export interface CertificateIdentity {
  subjectAlternativeName?: string;
  issuer?: string;
  /** Extension values by dotted OID, decoded to text. */
  extensions: Record<string, string>;
}

/** The pattern anchored at both ends, whatever the user wrote: `release.yml@refs/heads/main` matches only that. */
export function anchored(pattern: RegExp): RegExp {
  return new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
}

/** Why the certificate does not satisfy the policy, or undefined when it does. */
export function identityMismatch(policy: IdentityPolicy, signer: CertificateIdentity): string | undefined {
  const san = signer.subjectAlternativeName;
  if (san === undefined) return 'the certificate names no subject';
  if (typeof policy.identity === 'string') {
    if (san !== policy.identity) return `certificate identity '${san}' is not '${policy.identity}'`;
  } else if (!anchored(policy.identity).test(san)) {
    return `certificate identity '${san}' does not match ^(?:${policy.identity.source})$`;
  }
  if (signer.issuer !== policy.issuer)
    return `certificate issuer '${signer.issuer ?? '(none)'}' is not '${policy.issuer}'`;
  for (const [claim, want] of Object.entries(policy.claims ?? {}) as [GitHubClaim, string | undefined][]) {
    if (want === undefined || want === '') continue;
    const have = signer.extensions[GITHUB_CLAIM_OIDS[claim]];
    if (have !== want)
      return `certificate ${claim} '${have ?? '(none)'}' is not '${want}' (${GITHUB_CLAIM_FLAGS[claim]})`;
  }
  return undefined;
}

/** Fulcio's first extensions (1.3.6.1.4.1.57264.1.1 to .6) hold the raw string; the later ones a DER UTF8String. */
const RAW_EXTENSION = /^1\.3\.6\.1\.4\.1\.57264\.1\.[1-6]$/;

/** An extension's value as text: raw for Fulcio's legacy OIDs, a DER UTF8String unwrapped for the others. */
export function extensionText(oid: string, value: Uint8Array): string {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (RAW_EXTENSION.test(oid) || bytes.length < 2 || bytes[0] !== 0x0c) return bytes.toString('utf8');
  const first = bytes[1]!;
  if (first < 0x80) return bytes.subarray(2, 2 + first).toString('utf8');
  const lengthBytes = first & 0x7f;
  const length = bytes.subarray(2, 2 + lengthBytes).reduce((n, b) => n * 256 + b, 0);
  return bytes.subarray(2 + lengthBytes, 2 + lengthBytes + length).toString('utf8');
}
