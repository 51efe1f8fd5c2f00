// The proxy rules every request of the suite follows: @actions/http-client's, as the runner applies them.
import { afterEach, describe, expect, it } from '@jest/globals';
import { agentFor, closeAgents, proxyEnvironmentProblem, proxyFor } from '../src/index.js';

const NAMES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
function environment(values: Record<string, string>): void {
  for (const name of NAMES) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, values);
}
afterEach(() => {
  for (const name of NAMES) {
    if (saved[name] === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = saved[name];
  }
  closeAgents();
});

const via = (url: string, explicit?: string) => proxyFor(new URL(url), explicit)?.href;

describe('proxyFor', () => {
  it('HTTPS_PROXY for https, HTTP_PROXY for http, either case', () => {
    environment({ https_proxy: 'http://secure.proxy:3128', HTTP_PROXY: 'http://plain.proxy:3128' });
    expect(via('https://ghcr.io/v2/')).toBe('http://secure.proxy:3128/');
    expect(via('http://harbor.lab/v2/')).toBe('http://plain.proxy:3128/');
  });

  it('never proxies loopback, and NO_PROXY by host, host:port and domain suffix', () => {
    environment({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'internal.corp, .svc.cluster.local,api.example:8443' });
    expect(via('https://127.0.0.1:6443/api')).toBeUndefined();
    expect(via('https://localhost/')).toBeUndefined();
    expect(via('https://[::1]:6443/')).toBeUndefined();
    expect(via('https://git.internal.corp/')).toBeUndefined();
    expect(via('https://prometheus.monitoring.svc.cluster.local:9090/')).toBeUndefined();
    expect(via('https://api.example:8443/')).toBeUndefined();
    expect(via('https://api.example/')).toBe('http://p:3128/');
    expect(via('https://ghcr.io/')).toBe('http://p:3128/');
  });

  it('NO_PROXY=* sends everything direct; an explicit proxy (kubeconfig proxy-url) wins over the environment', () => {
    environment({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: '*' });
    expect(via('https://ghcr.io/')).toBeUndefined();
    expect(via('https://kube.example:6443/', 'http://cluster.proxy:8080')).toBe('http://cluster.proxy:8080/');
  });
});

describe('agentFor', () => {
  it("Node's global agents when there is nothing to add; one shared agent per route and TLS options", () => {
    environment({});
    expect(agentFor(new URL('https://ghcr.io/'))).toBeUndefined();
    const ca = ['-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n'];
    const first = agentFor(new URL('https://harbor.lab/'), { ca });
    expect(agentFor(new URL('https://other.lab/'), { ca })).toBe(first);
    expect(agentFor(new URL('https://harbor.lab/'), { ca, servername: 'x' })).not.toBe(first);
    environment({ HTTPS_PROXY: 'http://p:3128' });
    const proxied = agentFor(new URL('https://ghcr.io/'));
    expect(proxied).toBeDefined();
    expect(proxied).not.toBe(first);
    expect(agentFor(new URL('https://ghcr.io/'))).toBe(proxied);
  });
});

describe('proxyEnvironmentProblem', () => {
  it('a usable proxy, or none, is no problem; the lower-case name wins as in @actions/http-client', () => {
    expect(proxyEnvironmentProblem({})).toBeUndefined();
    expect(
      proxyEnvironmentProblem({ HTTPS_PROXY: 'http://proxy.corp:3128', http_proxy: 'https://p:1' }),
    ).toBeUndefined();
    // An address without a scheme is read as http:// by @actions/http-client.
    expect(proxyEnvironmentProblem({ HTTPS_PROXY: '10.0.0.1:3128' })).toBeUndefined();
    expect(proxyEnvironmentProblem({ https_proxy: 'http://ok:1', HTTPS_PROXY: 'proxy.corp:3128' })).toBeUndefined();
  });
  it.each([
    [
      { HTTPS_PROXY: 'proxy.corp:3128' },
      /HTTPS_PROXY \('proxy.corp:3128'\) reads as a URL of scheme 'proxy.corp:' with no proxy host/,
      /HTTPS_PROXY=http:\/\/proxy.corp:3128/,
    ],
    [{ http_proxy: 'http://proxy corp' }, /http_proxy \('http:\/\/proxy corp'\) is not a URL/, /http:\/\/host:port/],
    [{ HTTP_PROXY: 'socks5://127.0.0.1:1080' }, /names a SOCKS proxy/, /accepts CONNECT/],
    [{ HTTPS_PROXY: 'ftp://proxy:21' }, /scheme 'ftp:'/, /HTTPS_PROXY=http:\/\/proxy:21/],
  ])('%j is refused, naming the variable and the fix', (env, problem, fix) => {
    const found = proxyEnvironmentProblem(env);
    expect(found?.problem).toMatch(problem);
    expect(found?.fix).toMatch(fix);
  });
});
