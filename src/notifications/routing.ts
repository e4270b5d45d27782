import { randomUUID } from 'node:crypto';
import type { NotificationsConfig } from '../config.js';
import type { EmailBody } from './email/emailChannel.js';
import type { EmailRequest } from './notice.js';
import { webhookChannelName } from './channels/webhookChannel.js';
import type { NotificationEvent } from './notificationEvent.js';
import type { OutboxMessage } from './outbox.js';

/**
 * Which channels an event goes to: every webhook receiver when NOTIFY_EVENTS lists it, Slack when
 * SLACK_EVENTS does, and ServiceNow always (the channel opens an incident for SERVICENOW_EVENTS,
 * and for any other event only updates the incident of the same inquiry, if there is one). Decided
 * when the event is written, so a message waiting in the outbox is not redirected by a restart
 * with other settings.
 */
export function messagesOf(event: NotificationEvent, config: NotificationsConfig): OutboxMessage[] {
  const message = (channel: string): OutboxMessage => ({ id: event.id, channel, body: event });
  const messages: OutboxMessage[] = [];
  if (config.webhooks?.events.has(event.type))
    messages.push(...config.webhooks.urls.map(webhookChannelName).map(message));
  if (config.slack?.events.has(event.type)) messages.push(message('slack'));
  if (config.serviceNow !== undefined) messages.push(message('servicenow'));
  return messages;
}

/**
 * An email to the person. The login gate's: at most one waiting and one sent per identity per
 * EMAIL_MIN_INTERVAL (`oncePer`). The registration email has an id of its own per identity, so a
 * registration hook Kratos repeats sends it once; it holds no gate email back, as its link asks
 * the person to sign in, which a blocked login cannot.
 */
export function emailMessageOf(
  identityId: string,
  email: EmailRequest,
  config: NonNullable<NotificationsConfig['email']>,
): OutboxMessage {
  const body: EmailBody = {
    identity_id: identityId,
    template: email.template,
    language: email.language,
    return_to: email.returnTo,
  };
  if (email.template === 'registration') return { id: `registration_${identityId}`, channel: 'email', body };
  return {
    id: `email_${randomUUID()}`,
    channel: 'email',
    body,
    oncePer: { key: `email:${identityId}`, withinMs: config.minIntervalMs },
  };
}
