// The HTTP transport against real local servers: bodies both ways, redirects as fetch follows them
// (authorization kept within an origin, dropped across), the overall timeout and Node's error codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GitHubApiError,
  HttpTimeoutError,
  ProxyTunnelError,
  closeAgents,
  githubFailureFix,
  httpFailure,
  httpRequest,
} from '../src/index.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentLength?: string;
  body: string;
}

async function serve(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void,
): Promise<{ server: Server; origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentLength: req.headers['content-length'],
        body,
      });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let main: Awaited<ReturnType<typeof serve>>;
let storage: Awaited<ReturnType<typeof serve>>;

beforeAll(async () => {
  storage = await serve((_req, _body, res) =>
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('blob bytes'),
  );
  main = await serve((req, body, res) => {
    const url = req.url ?? '';
    if (url === '/json')
      return void res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] }).end('{"ok":true}');
    if (url === '/echo') return void res.writeHead(201, { location: '/done' }).end(body);
    if (url === '/elsewhere') return void res.writeHead(307, { location: `${storage.origin}/blob` }).end();
    if (url === '/same') return void res.writeHead(302, { location: '/json' }).end();
    if (url === '/see-other') return void res.writeHead(303, { location: '/json' }).end();
    if (url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (url === '/silent') return; // never answers
    res.writeHead(404).end('missing');
  });
});
afterAll(async () => {
  for (const { server } of [main, storage]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('httpRequest', () => {
  it('reads status, headers and the whole body', async () => {
    const response = await httpRequest(`${main.origin}/json`);
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(response.headers.get('x-multi')).toBe('a, b');
    expect(response.headers.has('location')).toBe(false);
    expect(response.json()).toEqual({ ok: true });
    const missing = await httpRequest(`${main.origin}/nothing`);
    expect([missing.status, missing.ok, missing.text()]).toEqual([404, false, 'missing']);
  });

  it('sends a body with its length, and a HEAD resolves with an empty body', async () => {
    const body = Buffer.from('{"schemaVersion":2}');
    const response = await httpRequest(`${main.origin}/echo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/done');
    expect(main.seen.at(-1)).toMatchObject({
      method: 'PUT',
      contentLength: String(body.length),
      body: body.toString(),
    });
    const head = await httpRequest(`${main.origin}/json`, { method: 'HEAD' });
    expect([head.status, head.body.length]).toEqual([200, 0]);
  });

  it('follows a redirect to another origin without the authorization header', async () => {
    const response = await httpRequest(`${main.origin}/elsewhere`, {
      headers: { authorization: 'Bearer registry-token' },
    });
    expect(response.text()).toBe('blob bytes');
    expect(response.url).toBe(`${storage.origin}/blob`);
    expect(main.seen.at(-1)?.authorization).toBe('Bearer registry-token');
    expect(storage.seen.at(-1)?.authorization).toBeUndefined();
  });

  it('keeps the authorization within an origin; a 303 turns a POST into a GET without body', async () => {
    await httpRequest(`${main.origin}/same`, { headers: { authorization: 'Basic x' } });
    expect(main.seen.at(-1)).toMatchObject({ method: 'GET', url: '/json', authorization: 'Basic x' });
    const response = await httpRequest(`${main.origin}/see-other`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('form'),
    });
    expect(response.json()).toEqual({ ok: true });
    expect(main.seen.at(-1)).toMatchObject({ method: 'GET', url: '/json', body: '' });
    expect(main.seen.at(-1)?.contentLength).toBeUndefined();
  });

  it('stops following after maxRedirects and returns the redirect itself', async () => {
    const before = main.seen.length;
    const response = await httpRequest(`${main.origin}/loop`, { maxRedirects: 3 });
    expect(response.status).toBe(302);
    expect(main.seen.length - before).toBe(4);
  });

  it('gives up on a server that does not answer within the timeout, with ETIMEDOUT', async () => {
    const started = performance.now();
    const error = await httpRequest(`${main.origin}/silent`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect((error as Error).message).toMatch(/within 0.3 s \(ETIMEDOUT\)/);
    expect(httpFailure(error)).toBe('timeout after 300 ms');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('keeps the code of a refused connection for the retry helper', async () => {
    const closed = await serve(() => undefined);
    await new Promise((resolve) => closed.server.close(resolve));
    const error = await httpRequest(`${closed.origin}/v2/`).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(httpFailure(error)).toBe('ECONNREFUSED');
    expect(httpFailure(new Error('socket hang up'))).toBe('socket hang up');
  });
});

describe('through a proxy that will not open the tunnel', () => {
  it('names the proxy, its answer and the target, and GitHub calls get a fix about the proxy', async () => {
    // A forward proxy that cannot resolve the host it is asked for, as squid answers then.
    const proxy = createServer();
    proxy.on('connect', (_req, socket) => {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const error = await httpRequest('https://api.github.example/repos', { proxy: via }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyTunnelError);
      expect((error as Error).message).toBe(
        `the proxy ${via} answered 503 to CONNECT api.github.example: it cannot reach that host, or does not allow it`,
      );
      expect(
        githubFailureFix(new GitHubApiError(0, `POST /x: ${(error as Error).message}`), 'https://api.github.example'),
      ).toMatch(/the runner's proxy could not reach https:\/\/api\.github\.example: .* NO_PROXY/);
    } finally {
      closeAgents();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
