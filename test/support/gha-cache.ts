// A local stand-in of GitHub's Actions cache, both services BuildKit's type=gha speaks (through
// go-actions-cache): v2, github.com's since 2025 (Twirp JSON at /twirp/github.actions.results.api.v1.
// CacheService/…, the blob itself put and read at a signed Azure Blob URL: Put Block, Put Block List, Get
// Blob with x-ms-range), and v1, GHES's (/_apis/artifactcache/: GET cache?keys=&version=, POST caches,
// PATCH caches/:id with Content-Range, POST caches/:id). Keys match as GitHub matches them: the key exactly,
// else the newest entry starting with a restore key. Every request is recorded with its Authorization.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

interface CacheEntry {
  id: number;
  key: string;
  version: string;
  blob?: Buffer;
  /** Committed (v2: FinalizeCacheEntryUpload; v1: POST caches/:id): only then found by a lookup. */
  finalized: boolean;
  /** Blocks staged (v2) or chunks patched (v1) before the commit. */
  parts: Map<string, Buffer>;
  createdAt: number;
}

export interface SeenCacheRequest {
  service: 'v1' | 'v2' | 'blob';
  method: string;
  path: string;
  authorization?: string;
}

export interface GhaCacheStandIn {
  /** ACTIONS_RESULTS_URL (v2) and ACTIONS_CACHE_URL (v1): the runner's URLs end with a slash. */
  url: string;
  token: string;
  seen: SeenCacheRequest[];
  /** Committed entries' keys, oldest first. */
  keys(): string[];
  close(): Promise<void>;
}

/** A runtime token as go-actions-cache parses it (unverified JWT: `ac` scopes, `nbf`, `exp`). */
export function runtimeToken(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const ac = JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }]);
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ac, nbf: now - 60, exp: now + 3600 })}.${randomBytes(32).toString('base64url')}`;
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

// The headers Azure Blob Storage answers with; the Go SDK dereferences x-ms-request-id.
function azureHeaders(extra: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    'x-ms-request-id': randomBytes(8).toString('hex'),
    'x-ms-version': '2023-11-03',
    date: new Date().toUTCString(),
    ...extra,
  };
}

export async function startGhaCache(): Promise<GhaCacheStandIn> {
  const token = runtimeToken();
  const entries: CacheEntry[] = [];
  const seen: SeenCacheRequest[] = [];
  let nextId = 1;
  let base = '';

  const committed = () => entries.filter((e) => e.finalized);
  const find = (keys: string[], version: string): CacheEntry | undefined => {
    const exact = committed().find((e) => e.key === keys[0] && e.version === version);
    if (exact) return exact;
    for (const prefix of keys) {
      const newest = committed()
        .filter((e) => e.version === version && e.key.startsWith(prefix))
        .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)[0];
      if (newest) return newest;
    }
    return undefined;
  };
  const reserve = (key: string, version: string): CacheEntry | undefined => {
    if (entries.some((e) => e.key === key && e.version === version)) return undefined;
    const entry: CacheEntry = { id: nextId++, key, version, finalized: false, parts: new Map(), createdAt: Date.now() };
    entries.push(entry);
    return entry;
  };

  // A blob read from an offset, as the SDKs ask: `bytes=N-` or `bytes=N-M`.
  const sendBlob = (request: IncomingMessage, response: ServerResponse, blob: Buffer, azure: boolean) => {
    const range = String(request.headers['x-ms-range'] ?? request.headers.range ?? '');
    const match = /^bytes=(\d+)-(\d*)$/.exec(range);
    const headers = azure
      ? azureHeaders({ 'x-ms-blob-type': 'BlockBlob', etag: '"0x1"', 'last-modified': new Date(0).toUTCString() })
      : {};
    if (!match) {
      response.writeHead(200, { ...headers, 'content-length': blob.length, 'accept-ranges': 'bytes' }).end(blob);
      return;
    }
    const start = Number(match[1]);
    const end = match[2] ? Math.min(Number(match[2]), blob.length - 1) : blob.length - 1;
    if (start >= blob.length) {
      response.writeHead(416, headers).end();
      return;
    }
    const part = blob.subarray(start, end + 1);
    response
      .writeHead(206, {
        ...headers,
        'content-length': part.length,
        'content-range': `bytes ${start}-${end}/${blob.length}`,
      })
      .end(part);
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', base);
      const data = await body(request);
      const authorization = request.headers.authorization;
      const service = url.pathname.startsWith('/twirp/') ? 'v2' : url.pathname.startsWith('/_apis/') ? 'v1' : 'blob';
      seen.push({
        service,
        method: request.method ?? '',
        path: url.pathname,
        ...(authorization ? { authorization } : {}),
      });

      if (service !== 'blob' && authorization !== `Bearer ${token}`) {
        if (service === 'v2') return json(response, 401, { code: 'unauthenticated', msg: 'invalid token' });
        return json(response, 401, { message: 'invalid token', typeKey: 'UnauthorizedException' });
      }

      if (service === 'v2') {
        const method = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
        const call = JSON.parse(data.toString() || '{}') as {
          key?: string;
          version?: string;
          restore_keys?: string[];
          size_bytes?: number;
        };
        if (method === 'CreateCacheEntry') {
          const entry = reserve(call.key ?? '', call.version ?? '');
          if (!entry) return json(response, 409, { code: 'already_exists', msg: 'cache entry already exists' });
          return json(response, 200, { ok: true, signed_upload_url: `${base}blob/${entry.id}?sig=upload` });
        }
        if (method === 'FinalizeCacheEntryUpload') {
          const entry = entries.find((e) => e.key === call.key && e.version === call.version && !e.finalized);
          if (!entry) return json(response, 404, { code: 'not_found', msg: 'no upload of this key' });
          entry.blob ??= Buffer.alloc(0);
          if (entry.blob.length !== call.size_bytes)
            return json(response, 400, { code: 'invalid_argument', msg: 'size does not match the upload' });
          entry.finalized = true;
          return json(response, 200, { ok: true, entry_id: String(entry.id) });
        }
        if (method === 'GetCacheEntryDownloadURL') {
          const entry = find(call.restore_keys?.length ? call.restore_keys : [call.key ?? ''], call.version ?? '');
          if (!entry) return json(response, 200, { ok: false });
          return json(response, 200, {
            ok: true,
            signed_download_url: `${base}blob/${entry.id}?sig=download`,
            matched_key: entry.key,
          });
        }
        return json(response, 404, { code: 'bad_route', msg: `no method ${method}` });
      }

      if (service === 'v1') {
        const rest = url.pathname.slice('/_apis/artifactcache/'.length);
        if (request.method === 'GET' && rest === 'cache') {
          const entry = find((url.searchParams.get('keys') ?? '').split(','), url.searchParams.get('version') ?? '');
          if (!entry) return response.writeHead(204).end();
          return json(response, 200, {
            cacheKey: entry.key,
            scope: 'refs/heads/main',
            archiveLocation: `${base}v1blob/${entry.id}`,
          });
        }
        if (request.method === 'POST' && rest === 'caches') {
          const call = JSON.parse(data.toString()) as { key: string; version: string };
          const entry = reserve(call.key, call.version);
          if (!entry)
            return json(response, 409, {
              message: `Cache already exists. Scope: refs/heads/main, Key: ${call.key}`,
              typeKey: 'ArtifactCacheItemAlreadyExistsException',
            });
          return json(response, 201, { cacheId: entry.id });
        }
        const id = /^caches\/(\d+)$/.exec(rest)?.[1];
        const entry = entries.find((e) => String(e.id) === id && !e.finalized);
        if (!entry) return json(response, 404, { message: 'no such reserved cache', typeKey: 'NotFound' });
        if (request.method === 'PATCH') {
          const from = /^bytes (\d+)-(\d+)\/\*$/.exec(String(request.headers['content-range'] ?? ''));
          if (!from) return json(response, 400, { message: 'Content-Range is required', typeKey: 'BadRequest' });
          entry.parts.set(from[1]!.padStart(16, '0'), data);
          return response.writeHead(204).end();
        }
        if (request.method === 'POST') {
          const size = (JSON.parse(data.toString()) as { size: number }).size;
          const blob = Buffer.concat(
            [...entry.parts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, b]) => b),
          );
          if (blob.length !== size) return json(response, 400, { message: 'size mismatch', typeKey: 'BadRequest' });
          entry.blob = blob;
          entry.finalized = true;
          return response.writeHead(204).end();
        }
      }

      // The blob stores: v2's signed Azure URL and v1's archive location.
      const blobId = /^\/(v1)?blob\/(\d+)$/.exec(url.pathname);
      const entry = entries.find((e) => String(e.id) === blobId?.[2]);
      if (!entry) return response.writeHead(404, azureHeaders()).end();
      if (request.method === 'GET' && entry.finalized && entry.blob)
        return sendBlob(request, response, entry.blob, !blobId![1]);
      if (request.method === 'PUT' && !blobId![1] && !entry.finalized) {
        const comp = url.searchParams.get('comp');
        if (comp === 'block') {
          entry.parts.set(url.searchParams.get('blockid') ?? '', data);
          return response.writeHead(201, azureHeaders()).end();
        }
        if (comp === 'blocklist') {
          const ids = [...data.toString().matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)</g)].map((m) => m[1]!);
          if (ids.some((i) => !entry.parts.has(i))) return response.writeHead(400, azureHeaders()).end();
          entry.blob = Buffer.concat(ids.map((i) => entry.parts.get(i)!));
          return response
            .writeHead(201, azureHeaders({ etag: '"0x1"', 'last-modified': new Date().toUTCString() }))
            .end();
        }
        if (request.headers['x-ms-blob-type'] === 'BlockBlob') {
          entry.blob = data;
          return response
            .writeHead(201, azureHeaders({ etag: '"0x1"', 'last-modified': new Date().toUTCString() }))
            .end();
        }
      }
      return response.writeHead(400, azureHeaders()).end();
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    token,
    seen,
    keys: () => committed().map((e) => e.key),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
