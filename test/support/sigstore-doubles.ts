// Local Fulcio, Rekor and GitHub OIDC token service for keyless signing tests: @sigstore/mock's CA,
// CT log and transparency log behind real HTTP servers on 127.0.0.1 (the action runs in another
// process, so in-process interception would not reach it), and the trusted root that names them.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  rekorHandler,
  type HandlerFn,
} from '@sigstore/mock';
import { registerSecret } from './capture.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface SigstoreDoubles {
  fulcioUrl: string;
  rekorUrl: string;
  /** Trusted root JSON naming the doubles' CA, CT log and transparency log. */
  trustedRoot: unknown;
  /** Requests the doubles served, by path. */
  requests: string[];
  close: () => Promise<void>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function p256(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const der = (key: KeyObject | Buffer): Buffer =>
  Buffer.isBuffer(key) ? key : key.export({ type: 'spki', format: 'der' });
const keyId = (spki: Buffer): string => createHash('sha256').update(spki).digest('base64');

export async function startSigstoreDoubles(): Promise<SigstoreDoubles> {
  const requests: string[] = [];
  const routes = new Map<string, HandlerFn>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push(`${req.method} ${path}`);
      const handler = routes.get(path);
      if (!handler) return void res.writeHead(404).end('not found');
      handler(Buffer.concat(chunks).toString('utf8'))
        .then((r) =>
          res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'application/json' }).end(r.response),
        )
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  const base = await listen(server);
  const ctKeys = p256();
  const tlogKeys = p256();
  const ctLog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(p256(), ctLog);
  const tlog = await initializeTLog(base, tlogKeys);
  const fulcio = fulcioHandler(ca);
  const rekor = rekorHandler(tlog);
  routes.set(fulcio.path, fulcio.fn);
  // The mock logs a proposed entry verbatim; real Rekor stores a dsse entry in its canonical form
  // (hashes and signatures, no envelope), and that is what verifiers compare against the bundle.
  routes.set(rekor.path, (body) => rekor.fn(JSON.stringify(canonicalDsseEntry(JSON.parse(body) as ProposedEntry))));

  const start = new Date(Date.now() - 3600_000).toISOString();
  const tlogSpki = der(tlogKeys.publicKey);
  const ctSpki = der(ctKeys.publicKey);
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: tlogSpki.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start },
        },
        logId: { keyId: keyId(tlogSpki) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: base,
        certChain: {
          certificates: [
            {
              rawBytes: Buffer.from(
                ca.rootCertificate.buffer,
                ca.rootCertificate.byteOffset,
                ca.rootCertificate.byteLength,
              ).toString('base64'),
            },
          ],
        },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: base,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: ctSpki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: {
          keyId: Buffer.from(ctLog.logID.buffer, ctLog.logID.byteOffset, ctLog.logID.byteLength).toString('base64'),
        },
      },
    ],
    timestampAuthorities: [],
  };
  return {
    fulcioUrl: base,
    rekorUrl: base,
    trustedRoot,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ProposedEntry {
  kind: string;
  apiVersion: string;
  spec: { proposedContent?: { envelope: string; verifiers: string[] } };
}

function canonicalDsseEntry(entry: ProposedEntry): object {
  if (entry.kind !== 'dsse' || !entry.spec.proposedContent) return entry;
  const { envelope, verifiers } = entry.spec.proposedContent;
  const parsed = JSON.parse(envelope) as { payload: string; signatures: { sig: string }[] };
  const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64')) },
      signatures: parsed.signatures.map((sig) => ({ signature: sig.sig, verifier: verifiers[0] })),
    },
  };
}

export interface OidcTokenService {
  /** ACTIONS_ID_TOKEN_REQUEST_URL as the runner sets it. */
  requestUrl: string;
  requestToken: string;
  /** The JWT it hands out (unsigned here: Fulcio's double only decodes it). */
  jwt: string;
  audiences: string[];
  close: () => Promise<void>;
}

/** GitHub's OIDC token endpoint as a job with id-token: write sees it. */
export async function startOidcTokenService(claims: Record<string, string>): Promise<OidcTokenService> {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: GITHUB_ISSUER, aud: 'sigstore', iat: now, exp: now + 300, ...claims })}.${Buffer.from('not-verified-by-the-double').toString('base64url')}`;
  const requestToken = `request-${Math.random().toString(36).slice(2)}`;
  registerSecret(jwt); // what the action must mask once it has it
  const audiences: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${requestToken}`)
      return void res.writeHead(401).end('{"message":"bad token"}');
    audiences.push(url.searchParams.get('audience') ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value: jwt }));
  });
  const base = await listen(server);
  return {
    requestUrl: `${base}/token?api-version=2.0`,
    requestToken,
    jwt,
    audiences,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
