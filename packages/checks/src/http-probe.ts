import { httpFailure, httpRequest } from '@deploy-suite/action-kit';
import { BODY_MATCH_TIMEOUT_MS, boundedMatch } from './bounded-match.js';

/** One HTTP probe: what to ask and what counts as healthy. */
export interface HttpProbe {
  url: string;
  /** Accepted status codes (default [200]). */
  expectStatus: number[];
  /** A regular expression the body must match, when given. */
  bodyMatch?: RegExp;
  timeoutMs: number;
  /** Extra request headers (e.g. Host for a preview route behind a shared ingress). */
  headers?: Record<string, string>;
}

export interface ProbeResponse {
  status: number;
  body: string;
}

export interface Measurement {
  at: string;
  ok: boolean;
  /** Neither healthy nor not: no data, or the metrics source unreachable. */
  inconclusive?: boolean;
  /** Inconclusive for want of data (no series yet), not for an unreachable source. */
  awaitingData?: boolean;
  /** No HTTP response at all (refused, unreachable, timed out): the route may not exist yet. */
  unanswered?: boolean;
  /** status 200 in 12 ms / status 503 / timeout after 2000 ms / connection refused … */
  detail: string;
  ms: number;
}

/** Pure: whether a response (or a failure to get one) is healthy under the probe's expectations. */
export function judgeResponse(
  probe: HttpProbe,
  response: ProbeResponse | { error: string },
  ms: number,
  at = new Date(),
): Measurement {
  const base = { at: at.toISOString(), ms: Math.round(ms) };
  if ('error' in response) return { ...base, ok: false, unanswered: true, detail: response.error };
  if (!probe.expectStatus.includes(response.status)) {
    return { ...base, ok: false, detail: `status ${response.status}, expected ${probe.expectStatus.join(' or ')}` };
  }
  const matched = probe.bodyMatch ? boundedMatch(probe.bodyMatch, response.body) : true;
  if (matched === 'timeout') {
    return {
      ...base,
      ok: false,
      detail: `status ${response.status} but matching the body against /${probe.bodyMatch!.source}/ took over ${BODY_MATCH_TIMEOUT_MS} ms (stopped): simplify the pattern (no nested repetition such as (a+)*)`,
    };
  }
  if (!matched) {
    return {
      ...base,
      ok: false,
      detail: `status ${response.status} but the body does not match /${probe.bodyMatch!.source}/`,
    };
  }
  return { ...base, ok: true, detail: `status ${response.status} in ${Math.round(ms)} ms` };
}

/** One request, bounded by the probe's timeout; never throws. */
export async function probeOnce(probe: HttpProbe): Promise<Measurement> {
  const started = performance.now();
  try {
    // A redirect is the answer (its status judged), not followed: a health endpoint that redirects is a finding.
    const response = await httpRequest(probe.url, {
      headers: probe.headers ?? {},
      maxRedirects: 0,
      timeoutMs: probe.timeoutMs,
    });
    // A health page, not a download: a match looks at its first 64 KiB.
    const body = probe.bodyMatch ? response.body.subarray(0, 64 * 1024).toString('utf8') : '';
    return judgeResponse(probe, { status: response.status, body }, performance.now() - started);
  } catch (error) {
    return judgeResponse(probe, { error: httpFailure(error) }, performance.now() - started);
  }
}
