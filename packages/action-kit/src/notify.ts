import * as core from '@actions/core';
import { errorMessage } from './errors.js';
import { httpFailure, httpRequest } from './http.js';
import { webhookBody, type ReleaseEvent, type ReleaseNotice, type WebhookFormat } from './notification.js';
import { isTransientStatus, retry } from './retry.js';

export interface WebhookSettings {
  url: URL;
  format: WebhookFormat;
  /** The events sent; the others are not. */
  events: ReadonlySet<ReleaseEvent>;
}

/** Tells the team about a release. Never throws: a notification that cannot be delivered is a warning. */
export interface Notifier {
  notify(notice: ReleaseNotice): Promise<void>;
}

/** No webhook configured: nothing to tell. */
export const silentNotifier: Notifier = { notify: async () => {} };

class WebhookStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

/**
 * POSTs each notice to the webhook as JSON (through the runner's proxy rules), three attempts for
 * throttling, 5xx and network failures, 10 s each. The release is never failed by its notification.
 */
export function webhookNotifier(
  settings: WebhookSettings,
  options: { timeoutMs?: number; retryDelayMs?: number } = {},
): Notifier {
  return {
    async notify(notice) {
      if (!settings.events.has(notice.event)) return;
      const body = Buffer.from(JSON.stringify(webhookBody(notice, settings.format)));
      try {
        await retry(
          async () => {
            const response = await httpRequest(settings.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              timeoutMs: options.timeoutMs ?? 10_000,
              maxRedirects: 0,
            });
            // Slack answers `ok`, Teams' workflows 202; any 2xx is delivered.
            if (response.status < 200 || response.status >= 300)
              throw new WebhookStatusError(response.status, response.text());
          },
          {
            attempts: 3,
            baseDelayMs: options.retryDelayMs ?? 1_000,
            isTransient: (error) => !(error instanceof WebhookStatusError) || isTransientStatus(error.status),
          },
        );
        core.info(`notified the webhook: ${notice.app} ${notice.event} (${settings.format})`);
      } catch (error) {
        const why = error instanceof WebhookStatusError ? error.message : httpFailure(error) || errorMessage(error);
        core.warning(
          `the '${notice.event}' notification did not reach the webhook (${why}); the release itself is not affected. Check notify-webhook`,
        );
      }
    },
  };
}
