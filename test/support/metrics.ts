// Drives the platform's metrics emitter: how each app colour "behaves", as Prometheus will see it. The
// series carry the namespace the test deploys to, as a Kubernetes scrape labels them: verify-rollback's
// built-in queries select it (metrics-selector).
export interface Behaviour {
  rps: number;
  errorRate: number;
  latencySeconds: number;
}

const emitter = () => process.env.DEPLOY_SUITE_EMITTER ?? 'http://127.0.0.1:9464';
const prometheus = () => process.env.DEPLOY_SUITE_PROMETHEUS ?? 'http://127.0.0.1:9090';

export async function playRelease(
  namespace: string,
  app: string,
  colour: 'blue' | 'green',
  behaviour: Behaviour,
): Promise<void> {
  const response = await fetch(`${emitter()}/apps/${namespace}/${app}/${colour}`, {
    method: 'PUT',
    body: JSON.stringify(behaviour),
  });
  if (!response.ok) throw new Error(`the metrics emitter answered ${response.status}`);
}

export async function stopPlaying(namespace: string, app: string, colour: 'blue' | 'green'): Promise<void> {
  await fetch(`${emitter()}/apps/${namespace}/${app}/${colour}`, { method: 'DELETE' });
}

/** Waits until Prometheus holds at least `samples` scrapes of the colour (a rate needs two). */
export async function waitForSamples(
  namespace: string,
  app: string,
  colour: string,
  samples: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const query = `count_over_time(http_requests_total{namespace="${namespace}",app="${app}",colour="${colour}",code="200"}[1m])`;
  while (Date.now() < deadline) {
    const body = (await (await fetch(`${prometheus()}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
      data?: { result?: { value: [number, string] }[] };
    };
    if (Number(body.data?.result?.[0]?.value[1] ?? 0) >= samples) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Prometheus did not scrape ${namespace}/${app}/${colour} ${samples} times within ${timeoutMs} ms`);
}

/** The series a PromQL query returns once it returns any (a scrape or two after a push), bounded. */
export async function waitForSeries(
  query: string,
  timeoutMs = 30_000,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const body = (await (await fetch(`${prometheus()}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
      data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.data?.result?.length) return body.data.result;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Prometheus returned nothing for ${query} within ${timeoutMs} ms`);
}
