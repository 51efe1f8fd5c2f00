// Notifications, heard by a local webhook receiver: bluegreen-deploy and verify-rollback, bundled and run
// as the runner runs them against the real control plane, tell a webhook of each release event (deployed,
// held, promoted, aborted, rolled back by hand and by the analysis, failed; the environment's name is
// in the unit tests: a GitHub environment here would call the Deployments API). A webhook that fails never
// fails the release: the step passes with a warning. No secret is in any message.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadEvent, runAction } from '../support/action-runner.js';
import { useNamespace } from '../support/namespace.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const namespace = `notify-${randomBytes(3).toString('hex')}`;
const app = 'shop';
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, 'e')}`;
const image = (n: number) => `127.0.0.1:5000/shop/api@${digestOf(n)}`;
// The receiver's path plays the secret part of a real webhook URL.
const hookSecret = `T0/B0/${randomBytes(12).toString('hex')}`;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());

type Json = Record<string, unknown>;
const hook = () => ({ 'notify-webhook': `${receiver.url}/services/${hookSecret}`, 'notify-format': 'json' });
const received = () => receiver.received.map((r) => r.body as Json);
const deploy = async (n: number, extra: Record<string, string> = {}) =>
  runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace, app, replicas: '1', image: image(n), ...hook(), ...extra },
    await loadEvent('push-default-branch'),
  );
const verify = async (inputs: Record<string, string>) =>
  runAction(
    'verify-rollback',
    { kubeconfig, namespace, app, ...hook(), ...inputs },
    await loadEvent('workflow-dispatch'),
  );

describe('release notifications to a webhook', () => {
  useNamespace(namespace);

  it('deployed: app, environment, revision, digest, colour, trigger and the run, the URL masked', async () => {
    receiver.received.length = 0;
    const run = await deploy(1);
    expect(run.exitCode).toBe(0);
    expect(received()).toEqual([
      expect.objectContaining({
        event: 'deployed',
        action: 'bluegreen-deploy',
        app,
        namespace,
        revision: 1,
        digest: digestOf(1),
        colour: run.outputs['live-colour'],
        trigger: 'octo-dev (push to refs/heads/trunk)',
        runUrl: expect.stringMatching(/\/actions\/runs\/\d+$/),
        text: `${app} in ${namespace} is live`,
      }),
    ]);
    expect(run.log).toContain(`::add-mask::${receiver.url}/services/${hookSecret}`);
    expect(run.shown).not.toContain(hookSecret);
  });

  it('held, then promoted; held again, then aborted', async () => {
    receiver.received.length = 0;
    expect((await deploy(2, { promote: 'false' })).exitCode).toBe(0);
    expect((await deploy(2, { mode: 'promote' })).exitCode).toBe(0);
    expect((await deploy(3, { promote: 'false' })).exitCode).toBe(0);
    expect((await deploy(3, { mode: 'abort' })).exitCode).toBe(0);
    expect(received().map((b) => `${b.event} ${String(b.digest)}`)).toEqual([
      `held ${digestOf(2)}`,
      `promoted ${digestOf(2)}`,
      `held ${digestOf(3)}`,
      `aborted ${digestOf(3)}`,
    ]);
    expect(received()[1]).toMatchObject({ previousDigest: digestOf(1), revision: 2 });
  });

  it('a manual rollback names who pressed it', async () => {
    receiver.received.length = 0;
    const run = await verify({ 'rollback-to': 'previous' });
    expect(run.exitCode).toBe(0);
    expect(received()).toEqual([
      expect.objectContaining({
        event: 'rolled-back',
        action: 'verify-rollback',
        digest: digestOf(1),
        previousDigest: digestOf(2),
        trigger: 'octo-dev (workflow_dispatch)',
        reason: expect.stringMatching(/^manual rollback \(rollback-to: previous\); live again after [0-9.]+ s$/),
      }),
    ]);
  });

  it('a failed analysis with auto-rollback off is told as failed, with what failed', async () => {
    receiver.received.length = 0;
    const run = await verify({
      'http-url': 'http://127.0.0.1:9/healthz',
      'http-checks': '1',
      'http-timeout': '1s',
      'auto-rollback': 'false',
    });
    expect(run.exitCode).toBe(1);
    expect(received()).toEqual([
      expect.objectContaining({
        event: 'failed',
        digest: digestOf(1),
        trigger: expect.stringMatching(/^the analysis of sha256:e+1 on (blue|green)/),
        reason: expect.stringMatching(/is failed: http failed/),
      }),
    ]);
  });

  it('a webhook that fails (after its retries) leaves the release done, with a warning', async () => {
    receiver.received.length = 0;
    receiver.statuses = [500, 500, 500];
    const run = await deploy(4);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.digest).toBe(digestOf(4));
    expect(receiver.received).toHaveLength(3);
    expect(run.log).toMatch(
      /::warning::the 'deployed' notification did not reach the webhook \(HTTP 500: invalid_payload\); the release itself is not affected/,
    );
  });

  it('notify-on chooses the events; Slack gets its own body', async () => {
    receiver.received.length = 0;
    const run = await deploy(5, { 'notify-on': 'rolled-back, failed' });
    expect(run.exitCode).toBe(0);
    expect(receiver.received).toHaveLength(0);
    const slack = await deploy(6, { 'notify-format': 'slack' });
    expect(slack.exitCode).toBe(0);
    const body = receiver.received[0]!.body as { text: string; blocks: { type: string }[] };
    expect(body.text).toBe(`${app} in ${namespace} is live (bluegreen-deploy)`);
    expect(body.blocks.map((b) => b.type)).toEqual(['section', 'context']);
  });
});
