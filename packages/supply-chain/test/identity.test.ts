// Keyless identity policy, the pure matcher: every way a subject or claim could be made to pass. The same
// cases with real certificates (sigstore's mock Fulcio) and the real cosign: test/integration/sbom-and-sign.
import { describe, expect, it } from '@jest/globals';
import {
  GITHUB_CLAIM_FLAGS,
  GITHUB_CLAIM_OIDS,
  anchored,
  extensionText,
  identityMismatch,
  type CertificateIdentity,
} from '../src/index.js';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

const MAIN = 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main';
const SHARED = 'https://github.com/acme/deploy-suite/.github/workflows/release.yml@refs/tags/v1';

const signer = (san: string | undefined, extra: Partial<CertificateIdentity> = {}): CertificateIdentity => ({
  ...(san !== undefined ? { subjectAlternativeName: san } : {}),
  issuer: GITHUB_ISSUER,
  extensions: {},
  ...extra,
});

describe('identityMismatch (pure)', () => {
  it.each([
    ['the same identity', MAIN, undefined],
    ['a branch that starts with main', `${MAIN}-attacker`, /is not/],
    ['maintenance', MAIN.replace('main', 'maintenance'), /is not/],
    ['a prefix before it', `https://evil.example/${MAIN}`, /is not/],
    ['only its beginning', MAIN.slice(0, -5), /is not/],
    ['another case', MAIN.toUpperCase(), /is not/],
  ])('an exact identity against %s', (_name, san, expected) => {
    const result = identityMismatch({ identity: MAIN, issuer: GITHUB_ISSUER }, signer(san));
    if (expected) expect(result).toMatch(expected);
    else expect(result).toBeUndefined();
  });

  it('an exact identity is never read as a pattern (dots, question marks)', () => {
    const policy = {
      identity: 'https://github.com/a/b/.github/workflows/x.yml@refs/heads/main',
      issuer: GITHUB_ISSUER,
    };
    expect(identityMismatch(policy, signer('https://githubXcom/a/b/.github/workflows/xXyml@refs/heads/main'))).toMatch(
      /is not/,
    );
  });

  it.each([
    ['the whole identity', /https:\/\/github\.com\/acme\/shop\/.*@refs\/heads\/main/, MAIN, undefined],
    [
      'a longer branch',
      /https:\/\/github\.com\/acme\/shop\/.*@refs\/heads\/main/,
      `${MAIN}-attacker`,
      /does not match/,
    ],
    [
      'a prefix',
      /https:\/\/github\.com\/acme\/.*/,
      `https://evil.example/?https://github.com/acme/x`,
      /does not match/,
    ],
    ['the first of two alternatives', /x@refs\/heads\/main|y@refs\/tags\/v1/, 'x@refs/heads/main', undefined],
    ['the second of two alternatives', /x@refs\/heads\/main|y@refs\/tags\/v1/, 'y@refs/tags/v1', undefined],
    ['an alternative with text after it', /x@refs\/heads\/main|y@refs\/tags\/v1/, 'x@refs/heads/main-evil', /does not/],
    ['an alternative with text before it', /x@refs\/heads\/main|y@refs\/tags\/v1/, 'evil-y@refs/tags/v1', /does not/],
    ['a pattern the user anchored already', /^https:\/\/github\.com\/acme\/shop\/.*$/, MAIN, undefined],
  ])('a pattern against %s', (_name, pattern, san, expected) => {
    const result = identityMismatch({ identity: pattern, issuer: GITHUB_ISSUER }, signer(san));
    if (expected) expect(result).toMatch(expected);
    else expect(result).toBeUndefined();
  });

  it('a global or sticky pattern is anchored without its state (lastIndex cannot skip a check)', () => {
    const pattern = /acme/g;
    expect(anchored(pattern).flags).toBe('');
    expect(identityMismatch({ identity: pattern, issuer: GITHUB_ISSUER }, signer('acme'))).toBeUndefined();
    expect(identityMismatch({ identity: pattern, issuer: GITHUB_ISSUER }, signer('acme'))).toBeUndefined();
  });

  it('refuses a certificate with no subject, another issuer, or an issuer that only starts the same', () => {
    expect(identityMismatch({ identity: MAIN, issuer: GITHUB_ISSUER }, signer(undefined))).toMatch(/no subject/);
    expect(
      identityMismatch(
        { identity: MAIN, issuer: GITHUB_ISSUER },
        signer(MAIN, { issuer: 'https://accounts.google.com' }),
      ),
    ).toMatch(/issuer/);
    expect(
      identityMismatch({ identity: MAIN, issuer: GITHUB_ISSUER }, signer(MAIN, { issuer: `${GITHUB_ISSUER}.evil` })),
    ).toMatch(/issuer/);
    expect(
      identityMismatch({ identity: MAIN, issuer: GITHUB_ISSUER }, { subjectAlternativeName: MAIN, extensions: {} }),
    ).toMatch(/issuer '\(none\)'/);
  });

  it('requires each claim the policy names, exactly; claims it does not name are not looked at', () => {
    const claims = { [GITHUB_CLAIM_OIDS.repository]: 'acme/shop', [GITHUB_CLAIM_OIDS.ref]: 'refs/heads/main' };
    const policy = {
      identity: SHARED,
      issuer: GITHUB_ISSUER,
      claims: { repository: 'acme/shop', ref: 'refs/heads/main' },
    };
    expect(identityMismatch(policy, signer(SHARED, { extensions: claims }))).toBeUndefined();
    expect(
      identityMismatch(
        policy,
        signer(SHARED, { extensions: { ...claims, [GITHUB_CLAIM_OIDS.repository]: 'evil/shop' } }),
      ),
    ).toMatch(/repository 'evil\/shop' is not 'acme\/shop' \(certificate-github-workflow-repository\)/);
    expect(
      identityMismatch(
        policy,
        signer(SHARED, { extensions: { ...claims, [GITHUB_CLAIM_OIDS.repository]: 'acme/shop-x' } }),
      ),
    ).toMatch(/repository/);
    expect(
      identityMismatch(policy, signer(SHARED, { extensions: { [GITHUB_CLAIM_OIDS.repository]: 'acme/shop' } })),
    ).toMatch(/ref '\(none\)'/);
    expect(
      identityMismatch(
        { identity: SHARED, issuer: GITHUB_ISSUER, claims: { sha: 'abc' } },
        signer(SHARED, { extensions: claims }),
      ),
    ).toMatch(/sha '\(none\)' is not 'abc'/);
  });

  it("names Fulcio's GitHub extensions by the OIDs cosign checks, and cosign's flag for each", () => {
    // A wrong OID would compare the policy with another claim: spelled out here, from Fulcio's OID list.
    expect(GITHUB_CLAIM_OIDS).toEqual({
      trigger: '1.3.6.1.4.1.57264.1.2',
      sha: '1.3.6.1.4.1.57264.1.3',
      name: '1.3.6.1.4.1.57264.1.4',
      repository: '1.3.6.1.4.1.57264.1.5',
      ref: '1.3.6.1.4.1.57264.1.6',
    });
    expect(GITHUB_CLAIM_FLAGS).toEqual({
      repository: 'certificate-github-workflow-repository',
      ref: 'certificate-github-workflow-ref',
      sha: 'certificate-github-workflow-sha',
      trigger: 'certificate-github-workflow-trigger',
      name: 'certificate-github-workflow-name',
    });
  });

  it('an empty claim in the policy asks for nothing (an input left empty), a set one for exactly it', () => {
    const policy = { identity: SHARED, issuer: GITHUB_ISSUER, claims: { repository: '', ref: 'refs/heads/main' } };
    const extensions = { [GITHUB_CLAIM_OIDS.ref]: 'refs/heads/main' };
    expect(identityMismatch(policy, signer(SHARED, { extensions }))).toBeUndefined();
    expect(identityMismatch(policy, signer(SHARED, { extensions: {} }))).toMatch(/ref '\(none\)'/);
  });

  it('reads raw legacy extensions and DER UTF8Strings (short and long form)', () => {
    expect(extensionText(GITHUB_CLAIM_OIDS.repository, Buffer.from('acme/shop'))).toBe('acme/shop');
    // A legacy value is never unwrapped, even if it happened to start with a UTF8String tag.
    expect(extensionText(GITHUB_CLAIM_OIDS.ref, Buffer.from([0x0c, 0x01, 0x41]))).toBe('\u000c\u0001A');
    expect(extensionText('1.3.6.1.4.1.57264.1.12', Buffer.from([0x0c, 0x03, 0x61, 0x62, 0x63]))).toBe('abc');
    const long = 'x'.repeat(300);
    expect(
      extensionText(
        '1.3.6.1.4.1.57264.1.12',
        Buffer.concat([Buffer.from([0x0c, 0x82, 0x01, 0x2c]), Buffer.from(long)]),
      ),
    ).toBe(long);
    expect(extensionText('1.3.6.1.4.1.57264.1.12', Buffer.from('plain'))).toBe('plain');
  });
});
