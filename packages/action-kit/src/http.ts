import type { Agent, IncomingMessage } from 'node:http';
import { agentFor, proxyFor, type TlsOptions } from './agents.js';

// node:http and node:https taken as plain modules: imported as ES modules, Node builds their namespaces by
// reading the lazy WebSocket exports, which load the whole fetch stack (undici, ~20 ms of a run). And a
// request through fetch costs 2–5 ms of CPU more than one through node:http (body streams, Request and
// Headers objects), which a signing run pays three times after its key opens.
const http = process.getBuiltinModule('node:http');

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** The whole exchange, redirects and body included. */
  timeoutMs?: number;
  maxRedirects?: number;
  /** TLS options for the target's origin (a private CA, a client certificate, a TLS name); not sent on to a redirect's other origin. */
  tls?: TlsOptions;
  /** A proxy for this request that overrides the environment's (kubeconfig proxy-url); HTTPS_PROXY/NO_PROXY otherwise. */
  proxy?: string;
}

/** A response read to its end: the callers here all want the whole (small) body, and a read body frees the socket. */
export interface HttpResponse {
  status: number;
  ok: boolean;
  /** The URL that answered, after redirects. */
  url: string;
  /** get: a header's values joined by ", "; all: each value as sent (Warning headers hold commas). */
  headers: { get(name: string): string | null; has(name: string): boolean; all(name: string): string[] };
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The whole exchange took longer than its timeout. Named as fetch's timeout is; coded as Node's network errors. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs / 1000} s (ETIMEDOUT)`);
    this.name = 'TimeoutError';
  }
}

/**
 * The proxy would not open a tunnel to the target (its answer to CONNECT was an error: it cannot resolve
 * or reach the host, or does not allow it). hpagent says only "Bad response: 503"; this names the proxy.
 */
export class ProxyTunnelError extends Error {
  constructor(
    readonly proxy: string,
    readonly target: string,
    readonly status: number,
  ) {
    super(
      `the proxy ${proxy} answered ${status} to CONNECT ${target}: it cannot reach that host, or does not allow it`,
    );
    this.name = 'ProxyTunnelError';
  }
}

const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/**
 * Which kind of TLS failure an exchange met, by Node's code: the server's certificate from a CA not
 * trusted, not naming the host, expired; undefined for anything else (refused, reset, timeout).
 */
export function tlsFailure(error: unknown): 'untrusted' | 'name' | 'expired' | undefined {
  const code = (error as { code?: string }).code ?? '';
  if (UNTRUSTED_CERTIFICATE.has(code)) return 'untrusted';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'name';
  if (code === 'CERT_HAS_EXPIRED') return 'expired';
  return undefined;
}

/** The short reason of a failed exchange: `timeout after N ms`, Node's code (ECONNREFUSED, …), else the message. */
export function httpFailure(error: unknown): string {
  if (error instanceof HttpTimeoutError) return `timeout after ${error.timeoutMs} ms`;
  return (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
}

/** Response headers, each with every value it was sent with. */
type Headers = NodeJS.Dict<string[]>;

function responseOf(url: string, status: number, raw: Headers, body: Buffer): HttpResponse {
  const all = (name: string): string[] => raw[name.toLowerCase()] ?? [];
  const header = (name: string): string | null => (all(name).length ? all(name).join(', ') : null);
  return {
    status,
    ok: status >= 200 && status < 300,
    url,
    headers: { get: header, has: (name) => header(name) !== null, all },
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  agent: Agent | undefined,
  deadline: number,
  timeoutMs: number,
  proxy: URL | undefined,
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  // node:https (and TLS) loads on the first https URL only: the local registries speak plain HTTP.
  const transport = url.protocol === 'https:' ? process.getBuiltinModule('node:https') : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
        ...(agent ? { agent } : {}),
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headersDistinct, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    const timer = setTimeout(
      () => request.destroy(new HttpTimeoutError(timeoutMs)),
      Math.max(0, deadline - performance.now()),
    );
    timer.unref();
    request.on('close', () => clearTimeout(timer));
    request.on('error', (error) => {
      const refused = proxy && /^Bad response: (\d+)$/.exec(error.message);
      reject(refused ? new ProxyTunnelError(proxy.origin, url.host, Number(refused[1])) : error);
    });
    request.end(body);
  });
}

/**
 * One HTTP exchange over node:http(s) with keep-alive, through the proxy the runner's environment names for
 * the URL (agents.ts: @actions/http-client's rules), following redirects as fetch
 * does: a 303, or a 301/302 of a POST, becomes a GET without body; the authorization header is dropped when
 * the redirect leaves the origin (a registry sending a blob GET on to its storage). Network errors keep
 * Node's codes (ECONNREFUSED, ECONNRESET, ETIMEDOUT) for the retry helper to recognise.
 */
export async function httpRequest(target: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = performance.now() + timeoutMs;
  let url = new URL(target);
  const origin = url.origin;
  let method = options.method ?? 'GET';
  let headers = { ...options.headers };
  let body = options.body;
  for (let redirects = 0; ; redirects++) {
    const sameOrigin = url.origin === origin;
    const explicitProxy = sameOrigin ? options.proxy : undefined;
    const agent = agentFor(url, sameOrigin ? options.tls : undefined, explicitProxy);
    const proxy = agent ? proxyFor(url, explicitProxy) : undefined;
    const answer = await exchange(url, method, headers, body, agent, deadline, timeoutMs, proxy);
    const location = answer.headers.location?.[0];
    if (!REDIRECTS.has(answer.status) || !location || redirects >= (options.maxRedirects ?? 5)) {
      return responseOf(url.href, answer.status, answer.headers, answer.body);
    }
    const next = new URL(location, url);
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !/^content-/i.test(name)));
    }
    if (next.origin !== url.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
    url = next;
  }
}
