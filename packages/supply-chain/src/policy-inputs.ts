import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readInsecureRegistries, readRegistryCredentials, type InputReader } from '@deploy-suite/action-kit';
import { KeyError, readPublicKey } from './cosign-key.js';
import { GITHUB_CLAIM_FLAGS, type GitHubClaim, type GitHubClaims } from './identity.js';
import type { SignaturePolicy } from './verify.js';

/**
 * The signature policy inputs every action that consumes images shares (bluegreen-deploy, and the manual
 * rollback to a digest): `verify-key`, or `certificate-identity` / `certificate-identity-regexp` with
 * `certificate-oidc-issuer` and `trusted-root`. Undefined when none is given: no policy.
 */
export function readSignaturePolicy(reader: InputReader, workspace: string): SignaturePolicy | undefined {
  const keyText = reader.string('verify-key');
  const identity = reader.string('certificate-identity');
  const identityRegexp = reader.string('certificate-identity-regexp');
  const issuer = reader.string('certificate-oidc-issuer');
  const rootPath = reader.string('trusted-root');
  const claims: GitHubClaims = {};
  for (const [claim, input] of Object.entries(GITHUB_CLAIM_FLAGS) as [GitHubClaim, string][]) {
    const value = reader.string(input);
    if (value) claims[claim] = value;
  }
  if (claims.repository !== undefined && !/^[\w.-]+\/[\w.-]+$/.test(claims.repository)) {
    reader.problem(
      'certificate-github-workflow-repository',
      `'${claims.repository}' is not owner/name`,
      'give the repository whose workflow signs, e.g. acme/shop (${{ github.repository }})',
    );
  }
  if (claims.ref !== undefined && !claims.ref.startsWith('refs/')) {
    reader.problem(
      'certificate-github-workflow-ref',
      `'${claims.ref}' is not a full git ref`,
      'give it as refs/heads/main or refs/tags/v1.2.3',
    );
  }
  const keyless = Boolean(identity || identityRegexp || issuer || rootPath || Object.keys(claims).length);
  if (keyText && keyless) {
    reader.problem(
      'verify-key',
      'is set together with certificate inputs',
      'give either verify-key (key pair) or certificate-identity + certificate-oidc-issuer (keyless), not both',
    );
    return undefined;
  }
  if (keyText) {
    // The PEM itself (from a secret or variable), or a file of the workspace such as cosign.pub.
    const pem = keyText.includes('-----BEGIN')
      ? keyText
      : existsSync(resolve(workspace, keyText))
        ? readFileSync(resolve(workspace, keyText), 'utf8')
        : undefined;
    if (pem === undefined) {
      reader.problem(
        'verify-key',
        `'${keyText}' is neither a PEM public key nor a file of the workspace`,
        'pass the content of cosign.pub, or its path',
      );
      return undefined;
    }
    try {
      return { kind: 'key', key: readPublicKey(pem) };
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      reader.problem(
        'verify-key',
        error.message,
        'pass the content of cosign.pub (-----BEGIN PUBLIC KEY-----), not the private key',
      );
      return undefined;
    }
  }
  if (!keyless) return undefined;
  if (identity && identityRegexp)
    reader.problem('certificate-identity-regexp', 'is set together with certificate-identity', 'give one of them');
  if (!identity && !identityRegexp)
    reader.problem(
      'certificate-identity',
      'is empty while other certificate inputs are set',
      'give the signing workflow identity, e.g. https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    );
  if (!issuer)
    reader.problem(
      'certificate-oidc-issuer',
      'is empty while a certificate identity is set',
      'use https://token.actions.githubusercontent.com for GitHub Actions',
    );
  let pattern: RegExp | undefined;
  if (identityRegexp) {
    try {
      pattern = new RegExp(identityRegexp);
    } catch (error) {
      reader.problem(
        'certificate-identity-regexp',
        `'${identityRegexp}' is not a regular expression: ${(error as Error).message}`,
        'fix the pattern, e.g. https://github\\.com/acme/.*',
      );
    }
  }
  let trustedRoot: unknown;
  if (!rootPath)
    reader.problem(
      'trusted-root',
      'is empty while a certificate identity is set',
      "give the Sigstore trusted root JSON (`cosign trusted-root create`, or the public-good instance's trusted_root.json)",
    );
  else if (!existsSync(resolve(workspace, rootPath)))
    reader.problem('trusted-root', `file '${rootPath}' does not exist`, 'give a path relative to the workspace');
  else {
    try {
      trustedRoot = JSON.parse(readFileSync(resolve(workspace, rootPath), 'utf8'));
    } catch {
      reader.problem('trusted-root', `'${rootPath}' is not JSON`, 'give the trusted_root.json file');
    }
  }
  if (!trustedRoot || !issuer || (!identity && !pattern)) return undefined;
  return {
    kind: 'identity',
    identity: pattern ?? identity,
    issuer,
    trustedRoot,
    ...(Object.keys(claims).length ? { claims } : {}),
  };
}

/** The signature policy of a consumer of images, with what it needs to apply it. */
export interface ImagePolicy {
  /** Who must have signed; undefined: signatures are not checked. */
  signature?: SignaturePolicy;
  /** Every image of the pod spec (sidecars, init and ephemeral containers), or the app's image only. */
  verifyAllImages: boolean;
  /** An index must also carry a valid signature on each platform manifest (`cosign sign --recursive`). */
  verifyPlatforms: boolean;
  /** Credentials for reading the signatures from the registry. */
  registryCredentials?: { username: string; password: string };
  /** Registries read over plain HTTP (insecure-registries). */
  insecureRegistries: string[];
}

/**
 * The policy inputs of every action that makes a digest live (bluegreen-deploy, verify-rollback): the
 * signature policy, `verify-all-images`, and `registry-username`/`registry-password` to read signatures.
 */
export function readImagePolicy(reader: InputReader, workspace: string): ImagePolicy {
  const signature = readSignaturePolicy(reader, workspace);
  const verifyAllImages = reader.boolean('verify-all-images', true);
  const verifyPlatforms = reader.boolean('verify-platforms', false);
  // A policy given but refused has its own problem; none given at all is this one.
  const policyGiven = ['verify-key', 'certificate-identity', 'certificate-identity-regexp'].some((i) => reader.raw(i));
  if (verifyPlatforms && !signature && !policyGiven) {
    reader.problem(
      'verify-platforms',
      'is true without a signature policy: there is nothing to verify the platform manifests against',
      'give verify-key (or certificate-identity and certificate-oidc-issuer), or leave verify-platforms false',
    );
  }
  const registryCredentials = readRegistryCredentials(reader);
  const insecureRegistries = readInsecureRegistries(reader);
  return {
    verifyAllImages,
    verifyPlatforms,
    insecureRegistries,
    ...(signature ? { signature } : {}),
    ...(registryCredentials ? { registryCredentials } : {}),
  };
}

/**
 * The signature gate of an image policy: given the images of a pod spec (the app's first), verifies
 * them all, or the app's only (verify-all-images: false), and says who signed each. Undefined without a
 * policy. sigstore-js is a megabyte of code: it loads only when a gate runs.
 */
export function signatureGate(
  policy: ImagePolicy,
  untouched: string,
  log: (message: string) => void,
): ((images: string[]) => Promise<string[]>) | undefined {
  const signature = policy.signature;
  if (!signature) return undefined;
  return async (images) => {
    const { requireSignedImages } = await import('./require-signed.js');
    return requireSignedImages(policy.verifyAllImages ? images : images.slice(0, 1), signature, {
      untouched,
      log,
      platforms: policy.verifyPlatforms,
      ...(policy.registryCredentials ? { credentials: policy.registryCredentials } : {}),
      insecureRegistries: policy.insecureRegistries,
    });
  };
}

/** For logs and summaries: who the policy trusts. */
export function describePolicy(policy: SignaturePolicy): string {
  if (policy.kind === 'key') return `key ${policy.key.hint}`;
  const identity = typeof policy.identity === 'string' ? policy.identity : `^(?:${policy.identity.source})$`;
  const claims = Object.entries(policy.claims ?? {}).map(([claim, value]) => `${claim} ${String(value)}`);
  return `identity ${identity} from ${policy.issuer}${claims.length ? ` (${claims.join(', ')})` : ''}`;
}
