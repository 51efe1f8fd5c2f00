import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InputReader } from '@deploy-suite/action-kit';
import { KeyError, readPublicKey } from './cosign-key.js';
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
  const keyless = Boolean(identity || identityRegexp || issuer || rootPath);
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
        'fix the pattern, e.g. ^https://github.com/acme/',
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
  return { kind: 'identity', identity: pattern ?? identity, issuer, trustedRoot };
}

/** For logs and summaries: who the policy trusts. */
export function describePolicy(policy: SignaturePolicy): string {
  return policy.kind === 'key' ? `key ${policy.key.hint}` : `identity ${String(policy.identity)} from ${policy.issuer}`;
}
