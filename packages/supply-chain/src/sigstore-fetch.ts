// make-fetch-happen's fetch as @sigstore/sign calls it (Fulcio, Rekor, a timestamp authority: method,
// headers, body, timeout; the answer's ok, status, headers and body), on the suite's one HTTP path. So
// keyless signing goes through HTTPS_PROXY/NO_PROXY with @actions/http-client's rules (loopback never
// proxied) and trusts what every other request trusts; make-fetch-happen brought its own proxy rules
// (@npmcli/agent: https_proxy first even for http URLs, no loopback rule, NO_PROXY without ports) and
// 0.9 MB. The action bundles take this module wherever make-fetch-happen is imported.
import { httpRequest } from '@deploy-suite/action-kit';

export interface SigstoreFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Milliseconds; 0 or absent: the suite's default. */
  timeout?: number;
}

const { STATUS_CODES } = process.getBuiltinModule('node:http');

export default async function sigstoreFetch(url: string, options: SigstoreFetchOptions = {}) {
  const response = await httpRequest(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: Buffer.from(options.body) }),
    ...(options.timeout ? { timeoutMs: options.timeout } : {}),
  });
  return {
    ok: response.ok,
    status: response.status,
    statusText: STATUS_CODES[response.status] ?? '',
    url: response.url,
    headers: response.headers,
    json: async () => response.json(),
    text: async () => response.text(),
    buffer: async () => response.body,
  };
}
