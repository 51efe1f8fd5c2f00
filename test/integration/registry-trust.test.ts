// The registry client trusts what docker and the Go tools in the same job trust. A real registry
// (distribution, Debian's docker-registry) serves TLS with a certificate from a CA the test makes, under a
// name only the platform's proxy resolves (registry-tls.proxied.test): refused while nothing names the CA
// (the message lists where trust comes from), trusted from docker's certs.d (rootless path), SSL_CERT_FILE,
// SSL_CERT_DIR and NODE_EXTRA_CA_CERTS. A plain-HTTP lab registry needs insecure-registries. A docker
// config identitytoken (what `az acr login` writes) is exchanged as an OAuth2 refresh token.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAgents } from '@deploy-suite/action-kit';
import { RegistryClient, RegistryError, credentialsFor, parseReference } from '@deploy-suite/oci';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'registry-trust-'));
const proxy = process.env.DEPLOY_SUITE_PROXY!;
let ca: TestCa;
let registry: ChildProcess;
let port = 0;
let host = '';
const saved = { ...process.env };

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
}

/** Resolves the digest of a tag that is not there: any answer (a 404) means TLS and the route worked. */
async function reach(env: NodeJS.ProcessEnv, insecureHosts: string[] = [], target = host): Promise<string> {
  closeAgents();
  const client = new RegistryClient({ env: { ...env }, insecureHosts, attempts: 1 });
  try {
    return (await client.resolveDigest(parseReference(`${target}/trust/app:v1`), 'v1')) ?? 'not found';
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

beforeAll(async () => {
  ca = makeTestCa(dir, 'registry trust test CA');
  const { cert, key } = ca.issue('registry', { dns: ['registry-tls.proxied.test'] });
  writeFileSync(join(dir, 'registry.crt'), cert);
  writeFileSync(join(dir, 'registry.key'), key);
  port = await freePort();
  host = `registry-tls.proxied.test:${port}`;
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'storage')}}}\nhttp:\n  addr: 127.0.0.1:${port}\n  tls:\n    certificate: ${join(dir, 'registry.crt')}\n    key: ${join(dir, 'registry.key')}\n`,
  );
  registry = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  // Reached through the platform's proxy, the only resolver of the name.
  process.env.HTTPS_PROXY = proxy;
  process.env.HTTP_PROXY = proxy;
  delete process.env.NO_PROXY;
  for (let i = 0; i < 50; i++) {
    // Up when it answers over TLS (through squid, a registry not listening yet is a 503 from the proxy).
    if ((await reach({ SSL_CERT_FILE: join(dir, 'ca.crt') })) === 'not found') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(() => {
  registry.kill();
  closeAgents();
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY']) {
    if (saved[name] === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = saved[name];
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a registry with a certificate from a private CA', () => {
  it('is refused while nothing names the CA, with the sources to fix', async () => {
    const answer = await reach({});
    expect(answer).toMatch(/the registry's certificate is not signed by a CA this runner trusts/);
    expect(answer).toMatch(/trusted beyond Node's roots: nothing/);
    expect(answer).toContain(`/etc/docker/certs.d/${host}/ca.crt`);
    expect(answer).toMatch(/SSL_CERT_FILE, SSL_CERT_DIR or NODE_EXTRA_CA_CERTS/);
  });

  it.each([
    ['SSL_CERT_FILE', () => ({ SSL_CERT_FILE: join(ca.dir, 'ca.crt') })],
    ['SSL_CERT_DIR', () => ({ SSL_CERT_DIR: ca.dir })],
    ['NODE_EXTRA_CA_CERTS', () => ({ NODE_EXTRA_CA_CERTS: join(ca.dir, 'ca.crt') })],
    [
      "docker's certs.d (rootless: ~/.config/docker/certs.d/<host>/ca.crt)",
      () => {
        const home = join(dir, 'home');
        const certs = join(home, '.config', 'docker', 'certs.d', host);
        mkdirSync(certs, { recursive: true });
        writeFileSync(join(certs, 'ca.crt'), ca.cert);
        return { HOME: home };
      },
    ],
  ])('is trusted from %s', async (_source, env) => {
    expect(await reach(env())).toBe('not found');
  });
});

describe('a lab registry on plain HTTP', () => {
  it('is spoken to over HTTP only when insecure-registries names it', async () => {
    const lab = 'registry.proxied.test:5000';
    expect(await reach({}, [], lab)).toMatch(/does not speak TLS .*name it in insecure-registries/);
    expect(await reach({}, [lab], lab)).toBe('not found');
  });
});

describe('a docker config identitytoken (az acr login)', () => {
  let server: Server;
  const seen: string[] = [];
  beforeAll(async () => {
    // A registry and its token endpoint, shaped as ACR's: a Bearer challenge; POST /oauth2/token with
    // grant_type=refresh_token answers an access token; Basic with the refresh token is refused.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url?.split('?')[0]} ${req.headers.authorization ?? ''} ${body}`);
        const origin = `http://${req.headers.host}`;
        if (req.url === '/oauth2/token' && req.method === 'POST') {
          const form = new URLSearchParams(body);
          if (form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-abc') {
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ access_token: 'access-xyz' }));
          } else res.writeHead(401).end();
          return;
        }
        if (req.headers.authorization !== 'Bearer access-xyz') {
          res
            .writeHead(401, {
              'www-authenticate': `Bearer realm="${origin}/oauth2/token",service="acr.test"`,
              'content-type': 'application/json',
            })
            .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        res
          .writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': `sha256:${'a'.repeat(64)}`,
          })
          .end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is exchanged at the token endpoint as an OAuth2 refresh token, never sent as Basic', async () => {
    const registryHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = join(dir, 'docker');
    mkdirSync(config, { recursive: true });
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({
        auths: {
          [registryHost]: {
            auth: Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64'),
            identitytoken: 'refresh-abc',
          },
        },
      }),
    );
    const client = new RegistryClient({ credentials: (h) => credentialsFor(h, config), attempts: 1 });
    const digest = await client
      .resolveDigest(parseReference(`${registryHost}/shop/api:v1`), 'v1')
      .catch((e: RegistryError) => e.message);
    expect(digest).toBe(`sha256:${'a'.repeat(64)}`);
    const token = seen.find((line) => line.startsWith('POST /oauth2/token'))!;
    expect(token).toContain('grant_type=refresh_token');
    expect(token).toContain('refresh_token=refresh-abc');
    expect(token).toContain('service=acr.test');
    expect(seen.some((line) => line.includes('Basic'))).toBe(false);
  });
});
