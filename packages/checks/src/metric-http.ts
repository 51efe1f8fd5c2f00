import { httpFailure, httpRequest } from '@deploy-suite/action-kit';
import type { QueryResult } from './metric-check.js';

export interface MetricRequest {
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

/** The JSON a provider answered with (any status below 500 but 401, 403 and 429), or the result that ends the query. */
export type JsonAnswer<T> = { status: number; body: T } | { failed: QueryResult };

/**
 * One metric query over the suite's HTTP path (proxy and TLS rules of the runner), the answers every
 * provider shares sorted out: no answer, refused credentials, rate limits and 5xx are an unreachable
 * provider (inconclusive, never a failed release); a 2xx that is not JSON is a query error. What is left
 * (the provider's own JSON) the provider reads.
 */
export async function requestMetricJson<T>(
  url: URL,
  request: MetricRequest,
  who: { provider: string; credentials: string },
): Promise<JsonAnswer<T>> {
  let response;
  try {
    response = await httpRequest(url, {
      method: request.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(request.body !== undefined ? { body: Buffer.from(JSON.stringify(request.body)) } : {}),
      timeoutMs: request.timeoutMs,
      // Keys travel in headers of the provider's own names: a redirect is not followed anywhere with them.
      maxRedirects: 0,
    });
  } catch (error) {
    return { failed: { kind: 'unreachable', error: httpFailure(error) } };
  }
  const status = response.status;
  if (status === 401 || status === 403)
    return {
      failed: {
        kind: 'unreachable',
        error: `HTTP ${status}: ${who.provider} refused the query's credentials (check ${who.credentials})`,
      },
    };
  if (status === 429)
    return { failed: { kind: 'unreachable', error: `HTTP 429: ${who.provider} is rate limiting the queries` } };
  if (status >= 300 && status < 400)
    return {
      failed: {
        kind: 'unreachable',
        error: `HTTP ${status}: redirected to ${response.headers.get('location') ?? '?'}`,
      },
    };
  let body: T;
  try {
    body = response.json<T>();
  } catch {
    return {
      failed:
        status < 300
          ? { kind: 'query-error', error: 'the answer is not JSON' }
          : { kind: 'unreachable', error: `HTTP ${status}` },
    };
  }
  if (status >= 500) return { failed: { kind: 'unreachable', error: `HTTP ${status}: ${errorText(body)}` } };
  return { status, body };
}

/** The message a provider's error body carries (`error`, `errors[]`, `message`), or its JSON cut short. */
export function errorText(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string') return b.error;
    if (Array.isArray(b.errors))
      return b.errors
        .map((e) => (typeof e === 'string' ? e : ((e as { message?: string })?.message ?? JSON.stringify(e))))
        .join('; ');
    if (typeof b.message === 'string') return b.message;
  }
  return JSON.stringify(body).slice(0, 200);
}
