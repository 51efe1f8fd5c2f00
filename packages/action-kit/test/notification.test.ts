import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/support/webhook-receiver.js';
import { inputProblems } from '../../../test/support/input-problems.js';
import {
  InputReader,
  maskSecret,
  noticeHeadline,
  readNotifier,
  noticeOf,
  runTrigger,
  webhookBody,
  webhookFormat,
  webhookNotifier,
  type ReleaseNotice,
} from '../src/index.js';

const D = `sha256:${'a'.repeat(64)}`;
const P = `sha256:${'b'.repeat(64)}`;
const rolledBack: ReleaseNotice = {
  event: 'rolled-back',
  action: 'verify-rollback',
  app: 'shop',
  namespace: 'shop-prod',
  environment: 'production',
  revision: 7,
  digest: D,
  colour: 'blue',
  previousDigest: P,
  trigger: 'the analysis of sha256:bbbb on green',
  reason: 'error-rate failed (0.3 not <= 0.01)',
  runUrl: 'https://github.com/acme/shop/actions/runs/42',
};

describe('what a notification says', () => {
  it('reads the format from the URL', () => {
    expect(webhookFormat(new URL('https://hooks.slack.com/services/T0/B0/x'))).toBe('slack');
    expect(webhookFormat(new URL('https://acme.webhook.office.com/webhookb2/x'))).toBe('teams');
    expect(webhookFormat(new URL('https://prod-12.westeurope.logic.azure.com:443/workflows/x'))).toBe('teams');
    expect(webhookFormat(new URL('https://ops.example/hooks/deploys'))).toBe('json');
    expect(webhookFormat(new URL('https://hooks.slack.com.evil.example/x'))).toBe('json');
  });

  it('names app, environment, revision, digest, colour, trigger and links the run, in every format', () => {
    expect(noticeHeadline(rolledBack)).toBe('shop in production (shop-prod) was rolled back');
    for (const format of ['slack', 'teams', 'json'] as const) {
      const text = JSON.stringify(webhookBody(rolledBack, format));
      for (const fact of [
        'shop',
        'production',
        '7',
        'blue',
        'the analysis of sha256:bbbb on green',
        rolledBack.runUrl!,
      ])
        expect(text).toContain(fact);
      expect(text).toContain(format === 'slack' ? D.slice(0, 19) : D);
    }
    const slack = webhookBody(rolledBack, 'slack') as { text: string; blocks: { type: string }[] };
    expect(slack.text).toBe('shop in production (shop-prod) was rolled back (verify-rollback)');
    expect(slack.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    const teams = webhookBody(rolledBack, 'teams') as {
      type: string;
      attachments: { contentType: string; content: { type: string; version: string; actions: { url: string }[] } }[];
    };
    expect(teams.type).toBe('message');
    expect(teams.attachments[0]!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(teams.attachments[0]!.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(teams.attachments[0]!.content.actions[0]!.url).toBe(rolledBack.runUrl);
    expect(webhookBody(rolledBack, 'json')).toMatchObject({
      event: 'rolled-back',
      revision: 7,
      digest: D,
      text: expect.any(String),
    });
  });

  it('never carries a masked secret, and escapes Slack markup', () => {
    maskSecret('hunter2-token-value');
    const body = JSON.stringify(
      webhookBody({ ...rolledBack, event: 'failed', reason: 'login with hunter2-token-value failed <@here>' }, 'slack'),
    );
    expect(body).not.toContain('hunter2-token-value');
    expect(body).toContain('***');
    expect(body).toContain('&lt;@here&gt;');
  });

  it('says who triggered the run', () => {
    const github = { actor: 'octocat', eventName: 'push', ref: 'refs/heads/main' } as Parameters<typeof runTrigger>[0];
    expect(runTrigger(github)).toBe('octocat (push to refs/heads/main)');
    expect(runTrigger({ ...github, eventName: 'workflow_dispatch' })).toBe('octocat (workflow_dispatch)');
  });

  it('every notice of a run names the action, the app and where, the trigger and the run', () => {
    const github = {
      actor: 'octocat',
      eventName: 'workflow_dispatch',
      repository: 'acme/shop',
      runId: '77',
      serverUrl: 'https://github.com',
    } as Parameters<typeof runTrigger>[0];
    expect(noticeOf('verify-rollback', { app: 'shop', namespace: 'prod', environment: 'production' }, github)).toEqual({
      action: 'verify-rollback',
      app: 'shop',
      namespace: 'prod',
      environment: 'production',
      trigger: 'octocat (workflow_dispatch)',
      runUrl: 'https://github.com/acme/shop/actions/runs/77',
    });
    // Without a repository (a local run) there is no link, and no environment unless one is named.
    expect(noticeOf('bluegreen-deploy', { app: 'shop', namespace: 'prod' }, { ...github, repository: '' })).toEqual({
      action: 'bluegreen-deploy',
      app: 'shop',
      namespace: 'prod',
      trigger: 'octocat (workflow_dispatch)',
    });
  });
});

describe('sending it', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.close());
  const capture = async (run: () => Promise<void>) => {
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await run();
    } finally {
      process.stdout.write = write;
    }
    return lines.join('');
  };
  const notifier = (events = ['rolled-back', 'failed'] as const, url = `${receiver.url}/hook`) =>
    webhookNotifier(
      { url: new URL(url), format: 'json', events: new Set(events) },
      { retryDelayMs: 1, timeoutMs: 2000 },
    );

  it('POSTs JSON; a 5xx is retried; only the chosen events are sent', async () => {
    receiver.received.length = 0;
    receiver.statuses = [503];
    const log = await capture(() => notifier().notify(rolledBack));
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['content-type']).toBe('application/json');
    expect(receiver.received[1]!.body).toMatchObject({ event: 'rolled-back', app: 'shop' });
    expect(log).toContain('notified the webhook: shop rolled-back (json)');
    await notifier().notify({ ...rolledBack, event: 'deployed' });
    expect(receiver.received).toHaveLength(2);
  });

  it('a webhook that refuses, or is not there, is a warning and never an error', async () => {
    receiver.statuses = [400];
    const refused = await capture(() => notifier().notify(rolledBack));
    expect(refused).toMatch(
      /::warning::the 'rolled-back' notification did not reach the webhook \(HTTP 400: invalid_payload\); the release itself is not affected/,
    );
    const gone = await capture(() => notifier(undefined, 'http://127.0.0.1:9/hook').notify(rolledBack));
    expect(gone).toMatch(/::warning::the 'rolled-back' notification did not reach the webhook \(.*ECONNREFUSED/);
  });

  it('reads its inputs: the URL masked, the events checked', () => {
    const read = (values: Record<string, string>) => {
      const reader = new InputReader((name) => values[name]);
      readNotifier(reader);
      reader.done();
    };
    expect(inputProblems(() => read({ 'notify-webhook': 'hooks.slack.com/services/x' }))).toEqual([
      expect.objectContaining({ input: 'notify-webhook', problem: expect.stringMatching(/is not an http\(s\) URL/) }),
    ]);
    expect(
      inputProblems(() => read({ 'notify-webhook': 'https://x.example/', 'notify-on': 'deployed, exploded' })),
    ).toEqual([expect.objectContaining({ input: 'notify-on', problem: "'exploded' is not an event" })]);
    expect(inputProblems(() => read({ 'notify-webhook': 'https://x.example/', 'notify-format': 'discord' }))).toEqual([
      expect.objectContaining({ input: 'notify-format' }),
    ]);
  });
});
