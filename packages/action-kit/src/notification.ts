import { runUrl, type GitHubContext } from './github-context.js';
import { redactSecrets } from './secrets.js';

/** What happened to a release, as a webhook hears of it. */
export type ReleaseEvent = 'deployed' | 'held' | 'promoted' | 'aborted' | 'rolled-back' | 'failed';

export const RELEASE_EVENTS: readonly ReleaseEvent[] = [
  'deployed',
  'held',
  'promoted',
  'aborted',
  'rolled-back',
  'failed',
];

/** The shape the webhook's receiver reads: a Slack incoming webhook, a Teams workflow, or plain JSON. */
export type WebhookFormat = 'slack' | 'teams' | 'json';

export interface ReleaseNotice {
  event: ReleaseEvent;
  /** The action that saw it: bluegreen-deploy, verify-rollback. */
  action: string;
  app: string;
  namespace: string;
  /** The GitHub environment, when the workflow names one. */
  environment?: string;
  revision?: number;
  digest?: string;
  colour?: string;
  /** Rolled back from, or promoted over. */
  previousDigest?: string;
  /** Who or what caused it: `octocat (push to refs/heads/main)`, `the analysis (error-rate failed)`. */
  trigger: string;
  /** Why, for held, rolled-back and failed: the failure's message, the analysis's verdict. */
  reason?: string;
  runUrl?: string;
}

const HEADLINES: Readonly<Record<ReleaseEvent, string>> = {
  deployed: 'is live',
  held: 'is held for promotion',
  promoted: 'was promoted and is live',
  aborted: 'was aborted (the live release stays)',
  'rolled-back': 'was rolled back',
  failed: 'failed',
};

const EMOJI: Readonly<Record<ReleaseEvent, string>> = {
  deployed: ':white_check_mark:',
  held: ':pause_button:',
  promoted: ':white_check_mark:',
  aborted: ':no_entry_sign:',
  'rolled-back': ':rewind:',
  failed: ':x:',
};

/**
 * The webhook's format read from its URL: Slack's incoming webhooks and Teams' workflow (and retired
 * connector) URLs are recognised; any other receiver gets plain JSON.
 */
export function webhookFormat(url: URL): WebhookFormat {
  const host = url.hostname.toLowerCase();
  if (host === 'hooks.slack.com' || host === 'hooks.slack-gov.com') return 'slack';
  if (
    /(^|\.)webhook\.office\.com$|(^|\.)logic\.azure\.com$|(^|\.)powerplatform\.com$|(^|\.)powerautomate\.com$/.test(
      host,
    )
  )
    return 'teams';
  return 'json';
}

const short = (digest: string) => (digest.startsWith('sha256:') ? `${digest.slice(0, 19)}…` : digest);

/** One line that says it all, as a chat preview shows it. */
export function noticeHeadline(n: ReleaseNotice): string {
  const where = n.environment ? `${n.environment} (${n.namespace})` : n.namespace;
  return `${n.app} in ${where} ${HEADLINES[n.event]}`;
}

/** The notice's facts in order: what a reader needs to act, without opening the run. */
export function noticeFacts(n: ReleaseNotice): [string, string][] {
  const facts: [string, string][] = [];
  if (n.revision !== undefined) facts.push(['Revision', String(n.revision)]);
  if (n.digest) facts.push(['Digest', n.digest]);
  if (n.colour) facts.push(['Colour', n.colour]);
  if (n.previousDigest) facts.push([n.event === 'rolled-back' ? 'Rolled back from' : 'Previous', n.previousDigest]);
  facts.push(['Triggered by', n.trigger]);
  if (n.reason) facts.push(['Reason', n.reason]);
  return facts;
}

/**
 * The body the receiver expects. Every text goes through the secret redaction first: a failure's message
 * may quote what the runner masks in logs but not in a webhook's body.
 */
export function webhookBody(notice: ReleaseNotice, format: WebhookFormat): unknown {
  const n: ReleaseNotice = {
    ...notice,
    trigger: redactSecrets(notice.trigger),
    ...(notice.reason !== undefined ? { reason: redactSecrets(notice.reason).slice(0, 1500) } : {}),
  };
  const headline = noticeHeadline(n);
  const facts = noticeFacts(n);
  switch (format) {
    case 'slack': {
      const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
      const lines = facts.map(
        ([k, v]) =>
          `*${k}:* ${k === 'Digest' || k.includes('from') || k === 'Previous' ? `\`${short(v)}\`` : escape(v)}`,
      );
      return {
        text: `${headline} (${n.action})`,
        blocks: [
          {
            type: 'section',
            text: { type: 'mrkdwn', text: `${EMOJI[n.event]} *${escape(headline)}*\n${lines.join('\n')}` },
          },
          {
            type: 'context',
            elements: [{ type: 'mrkdwn', text: n.runUrl ? `${n.action} · <${n.runUrl}|the run>` : n.action }],
          },
        ],
      };
    }
    case 'teams':
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', text: headline, weight: 'Bolder', size: 'Medium', wrap: true },
                { type: 'FactSet', facts: facts.map(([title, value]) => ({ title, value })) },
              ],
              ...(n.runUrl ? { actions: [{ type: 'Action.OpenUrl', title: 'Open the run', url: n.runUrl }] } : {}),
            },
          },
        ],
      };
    case 'json':
      return { ...n, text: headline };
  }
}

/** Who started the run and how: `octocat (push to refs/heads/main)`, `octocat (workflow_dispatch)`. */
export function runTrigger(github: GitHubContext): string {
  const who = github.actor || 'someone';
  if (!github.eventName) return who;
  const of = github.eventName === 'push' && github.ref ? ` to ${github.ref}` : '';
  return `${who} (${github.eventName}${of})`;
}

/** What every notice of a run says: the action, the app and where, who started the run, the run's link. */
export function noticeOf(
  action: string,
  target: { app: string; namespace: string; environment?: string },
  github: GitHubContext,
): Omit<ReleaseNotice, 'event'> {
  const url = runUrl(github);
  return {
    action,
    app: target.app,
    namespace: target.namespace,
    ...(target.environment ? { environment: target.environment } : {}),
    trigger: runTrigger(github),
    ...(url ? { runUrl: url } : {}),
  };
}
