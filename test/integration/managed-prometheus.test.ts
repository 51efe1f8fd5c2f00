// A managed Prometheus: the real Prometheus behind a small auth proxy that demands a bearer token and a
// tenant header (as Grafana Cloud, Amazon's and Google's managed services do in their own ways). With
// prometheus-token and prometheus-headers the analysis passes; without, it is inconclusive and says the
// credentials were refused. The token never shows in the log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadEvent, runAction } from '../support/action-runner.js';
import { forwardTo } from '../support/forward.js';
import { useNamespace } from '../support/namespace.js';

const token = `glc_${randomBytes(18).toString('hex')}`;
const prometheus = new URL(process.env.DEPLOY_SUITE_PROMETHEUS!);
const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const namespace = `managed-prom-${randomBytes(3).toString('hex')}`;
let auth: Server;
let authUrl = '';
const seen: { authorization?: string; tenant?: string }[] = [];

beforeAll(async () => {
  const forward = forwardTo(prometheus);
  auth = createServer((req, res) => {
    seen.push({ authorization: req.headers.authorization, tenant: req.headers['x-scope-orgid'] as string | undefined });
    if (req.headers.authorization !== `Bearer ${token}` || req.headers['x-scope-orgid'] !== 'team-a') {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid authentication credentials');
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((resolve) => auth.listen(0, '127.0.0.1', resolve));
  authUrl = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;
});

afterAll(async () => {
  auth.closeAllConnections();
  await new Promise((resolve) => auth.close(resolve));
});

describe('verify-rollback against a Prometheus that demands a token', () => {
  useNamespace(namespace);
  beforeAll(async () => {
    const deployed = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'web', replicas: '1', image: `127.0.0.1:5000/shop/web@sha256:${'5'.repeat(64)}` },
      await loadEvent('push-default-branch'),
    );
    expect(deployed.exitCode).toBe(0);
  });
  const inputs = () => ({
    kubeconfig,
    namespace,
    app: 'web',
    'prometheus-url': authUrl,
    queries: 'scrapes: count(up) >= 1',
    'metrics-checks': '1',
    'metrics-interval': '1s',
    'auto-rollback': 'false',
  });

  it('passes with the bearer token and the tenant header, and masks the token', async () => {
    const run = await runAction(
      'verify-rollback',
      { ...inputs(), 'prometheus-token': token, 'prometheus-headers': 'X-Scope-OrgID: team-a' },
      await loadEvent('workflow-dispatch'),
    );
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.verdict).toBe('passed');
    expect(seen.at(-1)).toEqual({ authorization: `Bearer ${token}`, tenant: 'team-a' });
    expect(run.log).toContain(`::add-mask::${token}`);
    expect(run.shown).not.toContain(token);
  });

  it('without them the analysis is inconclusive and says the credentials were refused', async () => {
    const run = await runAction('verify-rollback', inputs(), await loadEvent('workflow-dispatch'));
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(
      /HTTP 401: the Prometheus refused the query's credentials \(check prometheus-token and prometheus-headers\)/,
    );
  });
});
