import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  KeyError,
  PREDICATE_TYPES,
  imageStatement,
  keySigning,
  openCosignPrivateKey,
  readCosignPrivateKey,
  parseStatement,
  readPublicKey,
  signStatement,
  statementCovers,
  verifyBundle,
  type SignaturePolicy,
  type SigningMethod,
} from '../src/index.js';
import { deriveSecret, encryptedBody, pemBlock, startKeyDerivation } from '../src/sealed-key.js';
import { DIGEST, KEY, OTHER, OTHER_DIGEST } from './keys.js';

const keyPolicy = (pem: string): SignaturePolicy => ({ kind: 'key', key: readPublicKey(pem) });

describe('cosign private keys', () => {
  it("opens the key cosign generate-key-pair wrote; its hint is cosign.pub's", async () => {
    const key = await openCosignPrivateKey(KEY.private, KEY.password);
    expect(key.privateKey.asymmetricKeyType).toBe('ec');
    expect(key.hint).toBe(readPublicKey(KEY.public).hint);
    expect(key.publicKeyPem.trim()).toBe(KEY.public.trim());
  });

  it('says which thing is wrong: structure at once, password when opened', async () => {
    const reason = async (f: () => unknown) => {
      try {
        await f();
      } catch (error) {
        return error instanceof KeyError ? `${error.reason}: ${error.message}` : `other: ${String(error)}`;
      }
      return 'no error';
    };
    const sealed = readCosignPrivateKey(KEY.private);
    expect(await reason(() => sealed.open('wrong'))).toMatch(/^password:/);
    expect(await reason(() => sealed.open(OTHER.password))).toMatch(/^password:/);
    expect(await reason(() => readCosignPrivateKey('not a key'))).toMatch(/^malformed: no PEM block/);
    expect(await reason(() => readCosignPrivateKey(KEY.public))).toMatch(
      /^malformed: .*'PUBLIC KEY' is not a private key/,
    );
    const junk = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from('{"kdf":').toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`;
    expect(await reason(() => readCosignPrivateKey(junk))).toMatch(/^malformed: .*not the JSON/);
    const argon = `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${Buffer.from('{"kdf":{"name":"argon2"}}').toString('base64')}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`;
    expect(await reason(() => readCosignPrivateKey(argon))).toMatch(/^unsupported: key derivation 'argon2'/);
    expect(await reason(() => readPublicKey(KEY.private))).toMatch(
      /^malformed: expected a PEM block -----BEGIN PUBLIC KEY-----/,
    );
    const { privateKey } = generateKeyPairSync('x25519');
    expect(
      await reason(() => openCosignPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), '')),
    ).toMatch(/^unsupported: a x25519 key/);
  });

  it('an early scrypt (started by the entry) is the one open() uses; a wrong guess or a broken key changes nothing', async () => {
    const body = encryptedBody(pemBlock(KEY.private)!.der);
    expect(deriveSecret(body, KEY.password)).toBe(deriveSecret(body, KEY.password));
    expect(deriveSecret(body, 'other')).not.toBe(deriveSecret(body, KEY.password));
    expect(() => startKeyDerivation('not a key', 'x')).not.toThrow();
    expect(() =>
      startKeyDerivation(
        `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----`,
        'x',
      ),
    ).not.toThrow();
    startKeyDerivation(KEY.private, 'wrong');
    await expect(readCosignPrivateKey(KEY.private).open('wrong')).rejects.toThrow(
      'the password does not open this key',
    );
    startKeyDerivation(KEY.private, KEY.password);
    expect((await openCosignPrivateKey(KEY.private, KEY.password)).hint).toBe(readPublicKey(KEY.public).hint);
  });

  it('takes a plain PKCS#8 key too (password unused)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await openCosignPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), '');
    expect(key.hint).toHaveLength(44);
  });
});

describe('statements', () => {
  it("the signature statement has cosign sign's shape; attestations name the image", () => {
    expect(imageStatement(DIGEST, PREDICATE_TYPES.signature, {})).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: 'a'.repeat(64) }, annotations: {} }],
      predicateType: 'https://sigstore.dev/cosign/sign/v1',
      predicate: {},
    });
    expect(imageStatement(DIGEST, PREDICATE_TYPES.cyclonedx, { bomFormat: 'CycloneDX' }, 'reg/app').subject).toEqual([
      { name: 'reg/app', digest: { sha256: 'a'.repeat(64) } },
    ]);
    expect(() => imageStatement('latest', PREDICATE_TYPES.signature, {})).toThrow(/not a sha256 digest/);
  });

  it("a platform's SBOM statement also names the index that holds it, and covers both", () => {
    const s = imageStatement(DIGEST, PREDICATE_TYPES.cyclonedx, {}, 'reg/app', [OTHER_DIGEST]);
    expect(s.subject).toEqual([
      { name: 'reg/app', digest: { sha256: 'a'.repeat(64) } },
      { name: 'reg/app', digest: { sha256: OTHER_DIGEST.slice(7) } },
    ]);
    expect(statementCovers(s, DIGEST)).toBe(true);
    expect(statementCovers(s, OTHER_DIGEST)).toBe(true);
    expect(() => imageStatement(DIGEST, PREDICATE_TYPES.spdx, {}, 'reg/app', ['sha256:short'])).toThrow(/not a sha256/);
  });

  it("reads statements back, v1 and cosign attest's v0.1, and refuses other JSON", () => {
    const s = imageStatement(DIGEST, PREDICATE_TYPES.spdx, {});
    expect(parseStatement(Buffer.from(JSON.stringify(s)))).toEqual(s);
    expect(
      parseStatement(Buffer.from(JSON.stringify({ ...s, _type: 'https://in-toto.io/Statement/v0.1' })))?.predicateType,
    ).toBe(PREDICATE_TYPES.spdx);
    expect(parseStatement(Buffer.from('{"_type":"x"}'))).toBeUndefined();
    expect(parseStatement(Buffer.from('nope'))).toBeUndefined();
    expect(statementCovers(s, DIGEST)).toBe(true);
    expect(statementCovers(s, OTHER_DIGEST)).toBe(false);
  });
});

describe('sign and verify a bundle (no registry)', () => {
  let method: SigningMethod;
  beforeAll(async () => {
    method = keySigning(await openCosignPrivateKey(KEY.private, KEY.password));
  });

  it('signs a DSSE bundle v0.3 with the key hint and no keyid, and verifies it with cosign.pub', async () => {
    const bundle = await signStatement(imageStatement(DIGEST, PREDICATE_TYPES.signature, {}), method);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.publicKey?.hint).toBe(readPublicKey(KEY.public).hint);
    expect(bundle.dsseEnvelope?.payloadType).toBe('application/vnd.in-toto+json');
    expect(bundle.dsseEnvelope?.signatures[0]).not.toHaveProperty('keyid');
    const verified = verifyBundle(bundle, DIGEST, keyPolicy(KEY.public), PREDICATE_TYPES.signature);
    expect(verified.signer).toBe(`key ${readPublicKey(KEY.public).hint}`);
    expect(verified.statement.predicateType).toBe(PREDICATE_TYPES.signature);
  });

  it('refuses another key, another digest, another predicate, a tampered payload, a keyless policy', async () => {
    const bundle = await signStatement(imageStatement(DIGEST, PREDICATE_TYPES.signature, {}), method);
    expect(() => verifyBundle(bundle, DIGEST, keyPolicy(OTHER.public), PREDICATE_TYPES.signature)).toThrow(
      /signature does not verify/,
    );
    expect(() => verifyBundle(bundle, OTHER_DIGEST, keyPolicy(KEY.public), PREDICATE_TYPES.signature)).toThrow(
      /names another digest/,
    );
    expect(() => verifyBundle(bundle, DIGEST, keyPolicy(KEY.public), PREDICATE_TYPES.cyclonedx)).toThrow(
      /predicate type 'https:\/\/sigstore.dev\/cosign\/sign\/v1'/,
    );
    const forged = structuredClone(bundle);
    forged.dsseEnvelope!.payload = Buffer.from(
      JSON.stringify(imageStatement(OTHER_DIGEST, PREDICATE_TYPES.signature, {})),
    ).toString('base64');
    expect(() => verifyBundle(forged, OTHER_DIGEST, keyPolicy(KEY.public), PREDICATE_TYPES.signature)).toThrow(
      /signature does not verify/,
    );
    expect(() =>
      verifyBundle(
        bundle,
        DIGEST,
        { kind: 'identity', identity: 'x', issuer: 'y', trustedRoot: {} },
        PREDICATE_TYPES.signature,
      ),
    ).toThrow(/signed with a key, but the policy asks for a certificate identity/);
    expect(() => verifyBundle({ mediaType: 'nope' }, DIGEST, keyPolicy(KEY.public), PREDICATE_TYPES.signature)).toThrow(
      /not a valid Sigstore bundle/,
    );
  });
});
