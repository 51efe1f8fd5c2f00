import type { InputReader } from './inputs.js';
import { RELEASE_EVENTS, webhookFormat, type ReleaseEvent } from './notification.js';
import { webhookNotifier, silentNotifier, type Notifier } from './notify.js';
import { maskSecret } from './secrets.js';

/**
 * `notify-webhook` (masked: a Slack or Teams webhook URL is a credential), `notify-format` (auto: from
 * the URL) and `notify-on` (the events sent). No webhook: a notifier that tells nobody.
 */
export function readNotifier(reader: InputReader): Notifier {
  const text = reader.string('notify-webhook');
  maskSecret(text);
  const formatText = reader.oneOf('notify-format', ['auto', 'slack', 'teams', 'json'] as const, 'auto');
  const events = new Set<ReleaseEvent>();
  for (const name of reader.list('notify-on')) {
    if ((RELEASE_EVENTS as readonly string[]).includes(name)) events.add(name as ReleaseEvent);
    else
      reader.problem(
        'notify-on',
        `'${name}' is not an event`,
        `use some of ${RELEASE_EVENTS.join(', ')} (comma separated)`,
      );
  }
  if (!text) return silentNotifier;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    // Masked: the problem does not repeat any of it.
    reader.problem(
      'notify-webhook',
      'is not an http(s) URL (its value is masked, not shown here)',
      'give the webhook URL from a secret, e.g. ${{ secrets.SLACK_WEBHOOK_URL }}',
    );
    return silentNotifier;
  }
  return webhookNotifier({
    url,
    format: formatText === 'auto' ? webhookFormat(url) : formatText,
    events: events.size > 0 ? events : new Set(RELEASE_EVENTS),
  });
}
