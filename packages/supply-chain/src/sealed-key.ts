import { scrypt } from './scrypt.js';

// The sealed form of a cosign private key (PEM, its JSON body) and the scrypt that opens it, apart from the
// rest of the key handling so that an action can start the scrypt before its other modules load: this
// module needs only node:crypto and the scrypt.

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

// cosign 2+ writes the first label; cosign 1 wrote the second. Both carry the same JSON body.
export const ENCRYPTED_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

interface EncryptedKeyBody {
  kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string };
  cipher?: { name?: string; nonce?: string };
  ciphertext?: string;
}

export interface SealedBody {
  salt: Buffer;
  N: number;
  r: number;
  p: number;
  nonce: Buffer;
  ciphertext: Buffer;
}

export function pemBlock(text: string): { label: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END \1-----/.exec(text);
  if (!match) return undefined;
  return { label: match[1]!, der: Buffer.from(match[2]!.replace(/\s+/g, ''), 'base64') };
}

export function encryptedBody(der: Buffer): SealedBody {
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
  return {
    salt: Buffer.from(kdf.salt, 'base64'),
    N,
    r,
    p,
    nonce: Buffer.from(cipher.nonce, 'base64'),
    ciphertext: Buffer.from(ciphertext, 'base64'),
  };
}

/** Derivations started in this process, by salt and parameters: each key's scrypt runs once. */
const derivations = new Map<string, { password: string; secret: Promise<Buffer> }>();

/** The secretbox key a password gives for a sealed body: scrypt off the main thread (~0.15 s, 64 MiB). */
export function deriveSecret(body: SealedBody, password: string): Promise<Buffer> {
  const id = `${body.N}:${body.r}:${body.p}:${body.salt.toString('base64')}`;
  const started = derivations.get(id);
  if (started?.password === password) return started.secret;
  const { N, r, p } = body;
  const secret = scrypt(Buffer.from(password, 'utf8'), body.salt, { N, r, p, keyLength: 32 });
  secret.catch(() => undefined);
  derivations.set(id, { password, secret });
  return secret;
}

/**
 * Starts the scrypt of a cosign key as early as an action can (its entry, before the rest of its code
 * loads): opening the key later finds the derivation under way. Best effort and silent: a key it cannot
 * read is left to the input parser, which reports it.
 */
export function startKeyDerivation(pem: string, password: string): void {
  if (!pem) return;
  try {
    const block = pemBlock(pem);
    if (block && ENCRYPTED_LABELS.includes(block.label)) void deriveSecret(encryptedBody(block.der), password);
  } catch {
    // reported by the input parser
  }
}
