import { httpRequest } from './http.js';
import { isTransientStatus, retry } from './retry.js';

/**
 * Replaces a group's metrics on a Prometheus Pushgateway (PUT /metrics/job/<job>/<label>/<value>…, the
 * text format): the group is the app, so each run leaves that app's latest figures and nothing stale.
 * Label values go base64url-encoded (`<label>@base64/<value>`), the Pushgateway's rule for any value.
 */
export async function pushMetrics(
  baseUrl: string,
  job: string,
  grouping: Record<string, string>,
  text: string,
  options: { timeoutMs?: number; retryDelayMs?: number } = {},
): Promise<void> {
  const segment = (value: string) => `@base64/${Buffer.from(value).toString('base64url') || '='}`;
  let path = `metrics/job${segment(job)}`;
  for (const [label, value] of Object.entries(grouping)) path += `/${label}${segment(value)}`;
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  await retry(
    async () => {
      const response = await httpRequest(url, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: Buffer.from(text),
        timeoutMs: options.timeoutMs ?? 10_000,
      });
      if (response.status < 200 || response.status >= 300)
        throw Object.assign(new Error(`HTTP ${response.status}: ${response.text().slice(0, 200)}`), {
          status: response.status,
        });
    },
    {
      attempts: 3,
      baseDelayMs: options.retryDelayMs ?? 500,
      isTransient: (error) => {
        const status = (error as { status?: number }).status;
        return status === undefined || isTransientStatus(status);
      },
    },
  );
}
