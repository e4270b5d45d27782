import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { NotificationsConfig } from '../../config.js';
import { httpFailure, networkFailure, type Channel } from '../channel.js';
import { eventBody, type NotificationEvent } from '../notificationEvent.js';
import type { OutboxDelivery } from '../outbox.js';

/**
 * A receiver's channel name: `webhook:` and a digest of its URL, so a message waiting in the
 * outbox goes to the URL it was meant for even when NOTIFY_WEBHOOK_URLS is reordered, and a URL
 * (which may carry a token) is never written anywhere.
 */
export const webhookChannelName = (url: string) =>
  `webhook:${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;

/**
 * Standard Webhooks (spec/standard-webhooks.md): the event as JSON, `webhook-id` (the event's id,
 * the same on every retry), `webhook-timestamp` (this attempt, unix seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per NOTIFY_WEBHOOK_SECRET,
 * space-separated, so receivers keep verifying while a secret is rotated). Signed by the
 * `standardwebhooks` package. A redirect is a failure (the spec: update the URL instead), and
 * 410 Gone means the receiver wants no more.
 */
export function webhookChannel(config: NonNullable<NotificationsConfig['webhooks']>): Channel & { names: string[] } {
  const receivers = new Map(config.urls.map((url) => [webhookChannelName(url), url]));
  const signers = config.secrets.map((secret) => new Webhook(secret));

  return {
    kind: 'webhook',
    names: [...receivers.keys()],
    async deliver(delivery: OutboxDelivery, signal: AbortSignal) {
      const url = receivers.get(delivery.channel);
      if (url === undefined) return { kind: 'failed', reason: 'receiver_not_configured', permanent: true };
      const payload = JSON.stringify(eventBody(delivery.body as NotificationEvent));
      // The receiver checks it against its own clock, so it is the wall clock's.
      const timestamp = new Date();
      const signature = signers.map((signer) => signer.sign(delivery.id, timestamp, payload)).join(' ');
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'ory-persona-idv',
            'webhook-id': delivery.id,
            'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
            'webhook-signature': signature,
          },
          body: payload,
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        return networkFailure(error);
      }
      await response.body?.cancel();
      return response.ok ? { kind: 'delivered' } : httpFailure(response, [410]);
    },
  };
}
