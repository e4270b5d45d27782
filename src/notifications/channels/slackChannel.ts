import type { NotificationsConfig } from '../../config.js';
import { httpFailure, networkFailure, type Channel } from '../channel.js';
import type { NotificationEvent } from '../notificationEvent.js';
import { personaDashboardLink } from './personaDashboard.js';

/** Slack's mrkdwn gives `&`, `<` and `>` meaning; text carries them escaped. */
const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The short message: the event, the identity, and the inquiry in Persona's dashboard; ids only. */
export function slackMessage(event: NotificationEvent): { text: string } {
  const { data } = event;
  const lines = [`*${escapeText(event.type)}* for identity \`${escapeText(data.identity_id)}\``];
  const details = [
    data.purpose === null ? undefined : `purpose ${escapeText(data.purpose)}`,
    data.status === null ? undefined : `status ${escapeText(data.status)}`,
  ].filter((detail) => detail !== undefined);
  if (details.length > 0) lines.push(details.join(', '));
  if (data.inquiry_id !== null) {
    lines.push(`<${personaDashboardLink(data.inquiry_id)}|${escapeText(data.inquiry_id)} in Persona>`);
  }
  return { text: lines.join('\n') };
}

/**
 * A Slack incoming webhook (SLACK_WEBHOOK_URL): one JSON `{text}` per event, answered `200 ok`.
 * Slack answers 400 for a payload it cannot read, 403 and 404 for a webhook revoked or not
 * allowed, 410 for an archived channel: trying again cannot help those.
 */
export function slackChannel(config: NonNullable<NotificationsConfig['slack']>): Channel {
  return {
    kind: 'slack',
    async deliver(delivery, signal) {
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(slackMessage(delivery.body as NotificationEvent)),
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        return networkFailure(error);
      }
      await response.body?.cancel();
      return response.ok ? { kind: 'delivered' } : httpFailure(response, [400, 403, 404, 410]);
    },
  };
}
