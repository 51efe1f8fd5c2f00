// The registry client at the HTTP level: Docker's token auth (Bearer challenge answered with Basic
// credentials at the realm), retries on 5xx, and content checked against its digest. The real
// registries of the local platform are used by the integration tests; this covers the hosted flows.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, RegistryError, type ImageReference } from '../src/index.js';

const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:x', size: 2 },
    layers: [],
  }),
);
const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
const log: string[] = [];
let failuresLeft = 0;
let server: Server;
let host: string;

function handle(req: IncomingMessage): { status: number; headers?: Record<string, string>; body?: Buffer | string } {
  const auth = req.headers.authorization ?? '';
  if (req.url?.startsWith('/token')) {
    const url = new URL(req.url, 'http://x');
    if (auth !== `Basic ${Buffer.from('robot:s3cret').toString('base64')}`) return { status: 401 };
    return {
      status: 200,
      body: JSON.stringify({ token: `tok:${url.searchParams.get('scope')}:${url.searchParams.get('service')}` }),
    };
  }
  if (auth !== `Bearer tok:repository:acme/app:pull:registry.test`) {
    return {
      status: 401,
      headers: {
        'www-authenticate': `Bearer realm="http://${host}/token",service="registry.test",scope="repository:acme/app:pull"`,
      },
    };
  }
  if (failuresLeft > 0) {
    failuresLeft--;
    return { status: 503, body: 'busy' };
  }
  if (req.url === `/v2/acme/app/manifests/${digest}` || req.url === '/v2/acme/app/manifests/v1') {
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest },
      body: req.method === 'HEAD' ? '' : manifest,
    };
  }
  if (req.url === `/v2/acme/app/manifests/sha256:${'0'.repeat(64)}`) return { status: 200, body: manifest };
  return { status: 404, body: '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}' };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const answer = handle(req);
    res.writeHead(answer.status, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('RegistryClient', () => {
  const ref = (): ImageReference => ({ registry: host, repository: 'acme/app' });
  const client = () =>
    new RegistryClient({ credentials: async () => ({ username: 'robot', password: 's3cret' }), attempts: 3 });

  it('answers a Bearer challenge with a token from the realm, then reuses it', async () => {
    log.length = 0;
    const c = client();
    const fetched = await c.getManifest(ref(), digest);
    expect(fetched.digest).toBe(digest);
    expect(fetched.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(await c.resolveDigest(ref(), 'v1')).toBe(digest);
    expect(log.filter((l) => l.startsWith('GET /token'))).toHaveLength(1);
  });

  it('retries 5xx answers', async () => {
    failuresLeft = 2;
    expect((await client().getManifest(ref(), digest)).digest).toBe(digest);
    expect(failuresLeft).toBe(0);
  });

  it('a missing tag resolves to undefined; other errors name the request', async () => {
    expect(await client().resolveDigest(ref(), 'nope')).toBeUndefined();
    await expect(client().getManifest(ref(), 'nope')).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/v2\/acme\/app\/manifests\/nope answered 404/,
    );
  });

  it('refuses content that does not match the digest asked for', async () => {
    await expect(client().getManifest(ref(), `sha256:${'0'.repeat(64)}`)).rejects.toThrow(/does not match its digest/);
  });

  it('wrong credentials fail the token request with the fix', async () => {
    const bad = new RegistryClient({
      credentials: async () => ({ username: 'robot', password: 'wrong' }),
      attempts: 1,
    });
    const error = await bad.getManifest(ref(), digest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toMatch(/token request .* answered 401; check the registry credentials/);
  });
});
