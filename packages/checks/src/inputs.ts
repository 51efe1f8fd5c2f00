import type { InputReader } from '@deploy-suite/action-kit';
import type { CheckSchedule } from './analysis.js';
import type { HttpProbe } from './http-probe.js';

export interface HttpCheck {
  probe: HttpProbe;
  schedule: CheckSchedule;
}

/**
 * The inputs of an HTTP check, named `<prefix>-url`, `-expect-status`, `-body`, `-checks`, `-interval`,
 * `-failure-limit`, `-timeout`; undefined when `<prefix>-url` is empty (no check).
 */
export function readHttpCheck(
  reader: InputReader,
  prefix: string,
  defaults: { count: number; intervalSeconds: number } = { count: 3, intervalSeconds: 2 },
): HttpCheck | undefined {
  const url = reader.string(`${prefix}-url`);
  const statusText = reader.string(`${prefix}-expect-status`, { default: '200' });
  const bodyText = reader.string(`${prefix}-body`);
  const count = reader.positiveInt(`${prefix}-checks`, defaults.count);
  const intervalMs = reader.durationMs(`${prefix}-interval`, defaults.intervalSeconds * 1000);
  const timeoutMs = reader.durationMs(`${prefix}-timeout`, 5000);
  const limitText = reader.string(`${prefix}-failure-limit`, { default: '0' });
  if (!url) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol))
    reader.problem(
      `${prefix}-url`,
      `'${url}' is not an http(s) URL`,
      'give the full URL, e.g. https://preview.shop.example/healthz',
    );
  const expectStatus = statusText.split(',').map((s) => s.trim());
  if (expectStatus.some((s) => !/^[1-5][0-9][0-9]$/.test(s)))
    reader.problem(
      `${prefix}-expect-status`,
      `'${statusText}' is not a list of HTTP status codes`,
      'use codes such as 200 or 200,204',
    );
  let bodyMatch: RegExp | undefined;
  if (bodyText) {
    try {
      bodyMatch = new RegExp(bodyText);
    } catch (error) {
      reader.problem(
        `${prefix}-body`,
        `'${bodyText}' is not a regular expression: ${(error as Error).message}`,
        'fix the pattern, e.g. "status":"ok"',
      );
    }
  }
  const failureLimit = /^[0-9]+$/.test(limitText) ? Number(limitText) : -1;
  if (failureLimit < 0)
    reader.problem(
      `${prefix}-failure-limit`,
      `'${limitText}' is not a whole number`,
      'use 0 (no failure allowed) or more',
    );
  else if (failureLimit >= count)
    reader.problem(
      `${prefix}-failure-limit`,
      `${failureLimit} allows every one of the ${count} checks to fail`,
      `use less than ${prefix}-checks`,
    );
  return {
    probe: { url, expectStatus: expectStatus.map(Number), ...(bodyMatch ? { bodyMatch } : {}), timeoutMs },
    schedule: { count, intervalMs, failureLimit: Math.max(0, failureLimit) },
  };
}
