import type { Agent } from 'node:http';
import { createHash } from 'node:crypto';
import { getProxyUrl } from '@actions/http-client/lib/proxy';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';

/** What a caller adds to the system's trust for one server: a private CA, a client certificate, a TLS name. */
export interface TlsOptions {
  /** PEM (one or more certificates): as in Node, these replace the default roots (pass tls.rootCertificates too to add). */
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The name the server's certificate must carry when it differs from the URL's host (kubeconfig tls-server-name). */
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** The proxy a request to `url` goes through, or undefined: an explicit one, else the runner's environment. */
export function proxyFor(url: URL, explicit?: string): URL | undefined {
  if (explicit) return new URL(explicit);
  // @actions/http-client's rules, as every action on a runner applies them: https_proxy/HTTPS_PROXY for https,
  // http_proxy/HTTP_PROXY for http, NO_PROXY by host, host:port and domain suffix, loopback never proxied.
  return getProxyUrl(url);
}

/**
 * The runner's proxy variables checked before any work: each one @actions/http-client would use must read
 * as an HTTP(S) proxy with a host. It reads `proxy.corp:3128` as a URL of scheme `proxy.corp:` with no host,
 * and drops `http://proxy corp` silently (requests then go direct); docker, syft and trivy in the same job
 * fail on them too, later and less clearly. Undefined when every variable set is usable.
 */
export function proxyEnvironmentProblem(
  env: NodeJS.ProcessEnv = process.env,
): { problem: string; fix: string } | undefined {
  for (const [lower, upper] of [
    ['https_proxy', 'HTTPS_PROXY'],
    ['http_proxy', 'HTTP_PROXY'],
  ] as const) {
    // The lower-case name wins, as in @actions/http-client.
    const name = env[lower] ? lower : env[upper] ? upper : undefined;
    if (!name) continue;
    const value = env[name]!;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      try {
        if (!/^https?:\/\//.test(value)) url = new URL(`http://${value}`);
      } catch {
        // not a URL either way: reported below
      }
    }
    const shown = `environment variable ${name} ('${value}')`;
    if (!url)
      return { problem: `${shown} is not a URL`, fix: `set ${name} to the proxy as http://host:port, or unset it` };
    if (/^socks/.test(url.protocol))
      return {
        problem: `${shown} names a SOCKS proxy; the runner's HTTP client (and this suite) speak to HTTP proxies only`,
        fix: `set ${name} to an HTTP proxy (http://host:port, one that accepts CONNECT)`,
      };
    if (!['http:', 'https:'].includes(url.protocol) || !url.hostname)
      return {
        problem: `${shown} reads as a URL of scheme '${url.protocol}' with no proxy host`,
        fix: `write the scheme: ${name}=http://${value.replace(/^[a-z]+:\/\//i, '')}`,
      };
  }
  return undefined;
}

const agents = new Map<string, Agent>();

// A CA list can be the system bundle (~300 KB): hashed once per object, not once per request.
const digests = new WeakMap<object, string>();
function digest(value: TlsOptions[keyof TlsOptions]): string {
  if (value === undefined || typeof value === 'boolean') return String(value ?? '');
  const cached = typeof value === 'object' ? digests.get(value) : undefined;
  if (cached) return cached;
  const hash = createHash('sha256');
  for (const part of Array.isArray(value) ? value : [value]) hash.update(part).update('\0');
  const hex = hash.digest('hex').slice(0, 16);
  if (typeof value === 'object') digests.set(value, hex);
  return hex;
}

/**
 * The agent of one request: keep-alive, through the proxy the environment (or `proxy`) names for this URL,
 * with the caller's TLS options. Undefined when Node's global agents do (no proxy, no TLS options). Agents
 * are shared by everything with the same route and TLS options, so connections are reused across clients.
 */
export function agentFor(url: URL, tls: TlsOptions = {}, proxy?: string): Agent | undefined {
  const via = proxyFor(url, proxy);
  const secure = url.protocol === 'https:';
  const tlsSet = secure && Object.values(tls).some((value) => value !== undefined);
  if (!via && !tlsSet) return undefined;
  const key = [
    url.protocol,
    via?.href ?? '',
    ...(secure
      ? [digest(tls.ca), digest(tls.cert), digest(tls.key), tls.servername ?? '', tls.rejectUnauthorized]
      : []),
  ].join('|');
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 16, ...(secure ? definedOnly(tls) : {}) };
    if (via)
      agent = secure ? new HttpsProxyAgent({ ...options, proxy: via }) : new HttpProxyAgent({ ...options, proxy: via });
    else agent = new (process.getBuiltinModule('node:https').Agent)(options);
    agents.set(key, agent);
  }
  return agent;
}

/** Closes every agent's idle sockets (end of a run, or a test that checks nothing is left open). */
export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

function definedOnly(tls: TlsOptions): TlsOptions {
  return Object.fromEntries(Object.entries(tls).filter(([, value]) => value !== undefined)) as TlsOptions;
}
