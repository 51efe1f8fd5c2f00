import { sign as cryptoSign } from 'node:crypto';
import { bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import type { IdentityProvider, Signer, Witness } from '@sigstore/sign';
// The bundler alone: @sigstore/sign's index also loads its Fulcio and Rekor clients (in the action bundles
// on the suite's HTTP path: sigstore-fetch.ts), which only keyless signing needs, so that part is imported
// when it is used.
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- the one deliberate deep import (above)
import { DSSEBundleBuilder } from '@sigstore/sign/dist/bundler/dsse.js';
import type { SigningKey } from './cosign-key.js';
import { IN_TOTO_PAYLOAD_TYPE, type InTotoStatement } from './statement.js';

/** How a bundle is signed: the signer and the witnesses (transparency log) that countersign it. */
export interface SigningMethod {
  kind: 'key' | 'keyless';
  signer: Signer;
  witnesses: Witness[];
  /** For the summary: the key hint, or the identity the certificate will carry. */
  describe: string;
}

/** A key pair from secrets. Offline: no transparency log, as `cosign sign --tlog-upload=false`. */
export function keySigning(key: SigningKey): SigningMethod {
  const signer: Signer = {
    sign: async (data) => ({
      signature: cryptoSign(key.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key.privateKey),
      key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.hint },
    }),
  };
  return { kind: 'key', signer, witnesses: [], describe: `key ${key.hint}` };
}

export interface KeylessOptions {
  fulcioUrl: string;
  rekorUrl: string;
  identityProvider: IdentityProvider;
  timeoutMs?: number;
}

/**
 * Keyless: an ephemeral key certified by Fulcio for the OIDC identity (GitHub's workflow token), the
 * signature entered in Rekor. The same route `cosign sign` takes on a GitHub runner with id-token: write.
 */
export async function keylessSigning(options: KeylessOptions): Promise<SigningMethod> {
  const timeout = options.timeoutMs ?? 30_000;
  const module = await import('@sigstore/sign');
  // A CommonJS package: Node names its exports on the namespace, a bundler may put them under default.
  const { FulcioSigner, RekorWitness } =
    'FulcioSigner' in module ? module : (module as unknown as { default: typeof module }).default;
  return {
    kind: 'keyless',
    signer: new FulcioSigner({
      fulcioBaseURL: options.fulcioUrl,
      identityProvider: options.identityProvider,
      timeout,
      retry: 2,
    }),
    witnesses: [new RekorWitness({ rekorBaseURL: options.rekorUrl, entryType: 'dsse', timeout, retry: 2 })],
    describe: `keyless (Fulcio ${options.fulcioUrl}, Rekor ${options.rekorUrl})`,
  };
}

/** Signs an in-toto statement as a DSSE envelope inside a Sigstore bundle v0.3, serialized as JSON. */
export async function signStatement(statement: InTotoStatement, method: SigningMethod): Promise<SerializedBundle> {
  const builder = new DSSEBundleBuilder({ signer: method.signer, witnesses: method.witnesses });
  const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: IN_TOTO_PAYLOAD_TYPE });
  const json = bundleToJSON(bundle);
  // sigstore-js puts the key hint in the DSSE signature's keyid; cosign 3 then finds no signature matching
  // its key ("accepted signatures do not match threshold"). cosign writes none: neither do we.
  for (const signature of json.dsseEnvelope?.signatures ?? []) delete (signature as { keyid?: string }).keyid;
  return json;
}
