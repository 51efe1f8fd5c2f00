import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { ENCRYPTED_LABELS, KeyError, deriveSecret, encryptedBody, pemBlock, type SealedBody } from './sealed-key.js';

export { KeyError, type KeyProblem } from './sealed-key.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key, as `cosign.pub` holds it. */
  publicKeyPem: string;
  /** base64(sha256(SPKI DER)): cosign's `verificationMaterial.publicKey.hint`. */
  hint: string;
}

export interface VerificationKey {
  publicKey: KeyObject;
  hint: string;
}

export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

function requireSupportedKey(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type === 'ec' || type === 'ed25519' || type === 'rsa') return;
  throw new KeyError(
    'unsupported',
    `a ${type ?? 'symmetric'} key cannot sign images; cosign keys are ECDSA P-256, Ed25519 or RSA`,
  );
}

/** A private key read but not yet opened: its structure is checked, the password not yet. */
export interface SealedKey {
  open(password: string): Promise<SigningKey>;
}

/**
 * Reads a private key as `cosign generate-key-pair` writes it: PEM whose body is JSON with an scrypt KDF
 * and a NaCl secretbox around PKCS#8 DER. No library reads this format, so it is done here with
 * the suite's scrypt (scrypt.ts) and tweetnacl's secretbox (XSalsa20-Poly1305, which node:crypto lacks).
 * A plain PKCS#8 PEM is accepted too (password ignored), for keys kept in a secret manager.
 * Structure errors throw at once; the password is checked by open(), whose scrypt (~0.15 s, 64 MiB)
 * runs off the main thread so the caller can load modules or reach the registry meanwhile.
 */
export function readCosignPrivateKey(pem: string): SealedKey {
  const block = pemBlock(pem);
  if (!block)
    throw new KeyError('malformed', 'no PEM block found (expected -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----)');
  if (ENCRYPTED_LABELS.includes(block.label)) {
    const sealed = encryptedBody(block.der);
    return { open: async (password) => signingKey(await decrypt(sealed, password)) };
  }
  if (block.label === 'PRIVATE KEY' || block.label === 'EC PRIVATE KEY') {
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem' });
    } catch (error) {
      throw new KeyError('malformed', `the ${block.label} PEM does not parse: ${(error as Error).message}`);
    }
    const key = signingKey(privateKey);
    return { open: () => Promise.resolve(key) };
  }
  throw new KeyError('malformed', `a PEM block labelled '${block.label}' is not a private key`);
}

export function openCosignPrivateKey(pem: string, password: string): Promise<SigningKey> {
  return readCosignPrivateKey(pem).open(password);
}

function signingKey(privateKey: KeyObject): SigningKey {
  requireSupportedKey(privateKey);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    hint: keyHint(publicKey),
  };
}

async function decrypt(body: SealedBody, password: string): Promise<KeyObject> {
  const derivation = deriveSecret(body, password);
  // While scrypt runs, a throwaway open (it fails the tag check) compiles tweetnacl's code: the real open
  // then takes ~0.4 ms instead of ~1.2, after the key, where every millisecond is the run's.
  nacl.secretbox.open(new Uint8Array(body.ciphertext.length), body.nonce, new Uint8Array(nacl.secretbox.keyLength));
  const secret = await derivation;
  const opened = nacl.secretbox.open(body.ciphertext, body.nonce, secret);
  if (!opened) throw new KeyError('password', 'the password does not open this key');
  try {
    return createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new KeyError('malformed', `the decrypted key is not PKCS#8: ${(error as Error).message}`);
  }
}

/** A public key as `cosign.pub` holds it (SPKI PEM). */
export function readPublicKey(pem: string): VerificationKey {
  const block = pemBlock(pem);
  if (!block || block.label !== 'PUBLIC KEY')
    throw new KeyError('malformed', 'expected a PEM block -----BEGIN PUBLIC KEY----- (the content of cosign.pub)');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new KeyError('malformed', `the public key does not parse: ${(error as Error).message}`);
  }
  requireSupportedKey(publicKey);
  return { publicKey, hint: keyHint(publicKey) };
}
