import { createHash, createPrivateKey, createPublicKey, scrypt, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';

/** Why a key could not be used; the action maps each reason to the input and its fix. */
export type KeyProblem = 'malformed' | 'password' | 'unsupported';

export class KeyError extends Error {
  readonly reason: KeyProblem;

  constructor(reason: KeyProblem, message: string) {
    super(message);
    this.name = 'KeyError';
    this.reason = reason;
  }
}

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

// cosign 2+ writes the first label; cosign 1 wrote the second. Both carry the same JSON body.
const ENCRYPTED_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

interface EncryptedKeyBody {
  kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string };
  cipher?: { name?: string; nonce?: string };
  ciphertext?: string;
}

function pemBlock(text: string): { label: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----/.exec(text);
  if (!match) return undefined;
  return { label: match[1]!, der: Buffer.from(match[2]!.replace(/\s+/g, ''), 'base64') };
}

export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

function requireSupportedKey(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type === 'ec' || type === 'ed25519' || type === 'rsa') return;
  throw new KeyError('unsupported', `a ${type ?? 'symmetric'} key cannot sign images; cosign keys are ECDSA P-256, Ed25519 or RSA`);
}

/** A private key read but not yet opened: its structure is checked, the password not yet. */
export interface SealedKey {
  open(password: string): Promise<SigningKey>;
}

/**
 * Reads a private key as `cosign generate-key-pair` writes it: PEM whose body is JSON with an scrypt KDF
 * and a NaCl secretbox around PKCS#8 DER. No library reads this format, so it is done here with
 * node:crypto's scrypt and tweetnacl's secretbox (XSalsa20-Poly1305, which node:crypto lacks).
 * A plain PKCS#8 PEM is accepted too (password ignored), for keys kept in a secret manager.
 * Structure errors throw at once; the password is checked by open(), whose scrypt (~0.2 s, 64 MiB)
 * runs off the main thread so the caller can load modules or reach the registry meanwhile.
 */
export function readCosignPrivateKey(pem: string): SealedKey {
  const block = pemBlock(pem);
  if (!block) throw new KeyError('malformed', 'no PEM block found (expected -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----)');
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
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), hint: keyHint(publicKey) };
}

interface SealedBody {
  salt: Buffer;
  N: number;
  r: number;
  p: number;
  nonce: Buffer;
  ciphertext: Buffer;
}

function encryptedBody(der: Buffer): SealedBody {
  let body: EncryptedKeyBody;
  try {
    body = JSON.parse(der.toString('utf8')) as EncryptedKeyBody;
  } catch {
    throw new KeyError('malformed', 'the encrypted key body is not the JSON cosign writes');
  }
  const { kdf, cipher, ciphertext } = body;
  if (kdf?.name !== 'scrypt' || !kdf.salt || !kdf.params?.N || !kdf.params.r || !kdf.params.p) {
    throw new KeyError('unsupported', `key derivation '${kdf?.name ?? 'missing'}' is not cosign's scrypt`);
  }
  if (cipher?.name !== 'nacl/secretbox' || !cipher.nonce || !ciphertext) {
    throw new KeyError('unsupported', `cipher '${cipher?.name ?? 'missing'}' is not cosign's nacl/secretbox`);
  }
  const { N, r, p } = kdf.params;
  return { salt: Buffer.from(kdf.salt, 'base64'), N, r, p, nonce: Buffer.from(cipher.nonce, 'base64'), ciphertext: Buffer.from(ciphertext, 'base64') };
}

async function decrypt(body: SealedBody, password: string): Promise<KeyObject> {
  const { N, r, p } = body;
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below cosign's N=65536, r=8 (64 MiB).
  const secret = await new Promise<Buffer>((resolve, reject) =>
    scrypt(Buffer.from(password, 'utf8'), body.salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
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
  if (!block || block.label !== 'PUBLIC KEY') throw new KeyError('malformed', 'expected a PEM block -----BEGIN PUBLIC KEY----- (the content of cosign.pub)');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new KeyError('malformed', `the public key does not parse: ${(error as Error).message}`);
  }
  requireSupportedKey(publicKey);
  return { publicKey, hint: keyHint(publicKey) };
}
