import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { loginPolicyOf } from '../policy/loginPolicy.js';
import type { DecisionStatuses, PersonaRecord } from '../verification/record.js';
import { eventsOfChange, standingSummaryOf } from './changeEvents.js';
import type { Channel } from './channel.js';
import { serviceNowChannel } from './channels/serviceNowChannel.js';
import { slackChannel } from './channels/slackChannel.js';
import { webhookChannel } from './channels/webhookChannel.js';
import { emailChannel, type EmailChannelDeps } from './email/emailChannel.js';
import { createEmailRequests } from './email/emailRequests.js';
import type { EmailRequest, Notice } from './notice.js';
import { notificationEvent, type NotificationEvent } from './notificationEvent.js';
import type { Coordination } from '../coordination/coordination.js';
import { deadlineIn } from '../outbound/retry.js';
import type { OutboxMessage, OutboxWriter } from './outbox.js';
import { createRelay, type Relay, type RelayResult } from './relay.js';
import { emailMessageOf, messagesOf } from './routing.js';

/** How long the worker may take to write one email the login gate asked for. */
const EMAIL_REQUEST_BUDGET_MS = 5_000;

/** A change the record store wrote, as the notifications see it. */
export interface WrittenChange {
  identityId: string;
  /** The record as stored before the change; null when there was none. */
  before: PersonaRecord | null;
  /** The record as written, account actions included. */
  after: PersonaRecord;
  /** What the change asked to tell beyond what the record shows. */
  notices: readonly Notice[];
}

export interface Notifications {
  /**
   * Writes what a change announces into the outbox through the section's unit of work, so the
   * messages commit or roll back with the change (in Postgres mode, one transaction).
   */
  announce(change: WrittenChange, unit: OutboxWriter): Promise<void>;
  /**
   * The login gate blocked a person who can lift the block by verifying: an email with a fresh
   * link, at most one per EMAIL_MIN_INTERVAL. Never waits; true when an email was asked for within
   * the interval and the outbox takes writes (so the message may say so), false when email is
   * off, the request was refused or the outbox cannot be written now.
   */
  requestEmail(identityId: string, email: EmailRequest): boolean;
  relay: Relay;
  /** Whether any channel is configured (else announcing is a no-op). */
  readonly enabled: boolean;
  /** Resolves when the emails the gate asked for so far are in the outbox (tests). */
  emailsQueued(): Promise<void>;
}

export interface NotificationsDeps {
  /** Its outbox, its sections (for the gate's emails) and the lead of `notifications`. */
  coordination: Pick<Coordination, 'outbox' | 'withIdentity' | 'leadership' | 'writable'>;
  statuses: DecisionStatuses;
  logger: Logger;
  now?: () => number;
  count?: (kind: string, result: RelayResult) => void;
  /** Tests shorten the waits between attempts. */
  scheduleMs?: readonly number[];
  /** What the email channel needs besides its configuration and the login gate's rules. */
  email: Omit<EmailChannelDeps, 'now' | 'rules'>;
}

/** The channels configured, by the names outbox messages carry. */
function channelsOf(config: Readonly<Config>, email: EmailChannelDeps): (name: string) => Channel | undefined {
  const { webhooks, slack, serviceNow } = config.notifications;
  const webhook = webhooks === undefined ? undefined : webhookChannel(webhooks);
  const named = new Map<string, Channel>();
  for (const name of webhook?.names ?? []) named.set(name, webhook as Channel);
  if (slack !== undefined) named.set('slack', slackChannel(slack));
  if (serviceNow !== undefined) named.set('servicenow', serviceNowChannel(serviceNow));
  if (config.notifications.email !== undefined) named.set('email', emailChannel(config.notifications.email, email));
  return (name) => named.get(name);
}

/**
 * The notifications room, wired: the events of each written change routed to the configured
 * channels through the outbox, and the relay that sends them.
 */
export function createNotifications(config: Readonly<Config>, deps: NotificationsDeps): Notifications {
  const now = deps.now ?? Date.now;
  const settings = config.notifications;
  const enabled =
    settings.webhooks !== undefined ||
    settings.slack !== undefined ||
    settings.serviceNow !== undefined ||
    settings.email !== undefined;
  const relay = createRelay({
    outbox: deps.coordination.outbox,
    channelFor: channelsOf(config, {
      ...deps.email,
      rules: { policy: loginPolicyOf(config), statuses: deps.statuses },
      now,
    }),
    leadership: deps.coordination.leadership('notifications'),
    retryForMs: settings.retryForMs,
    logger: deps.logger,
    now,
    ...(deps.count !== undefined && { count: deps.count }),
    ...(deps.scheduleMs !== undefined && { scheduleMs: deps.scheduleMs }),
  });

  const eventsOf = (change: WrittenChange): NotificationEvent[] => [
    ...eventsOfChange(change.identityId, change.before, change.after, deps.statuses),
    ...change.notices.flatMap((notice) =>
      notice.kind === 'event'
        ? [
            notificationEvent(notice.type, notice.timestamp, {
              identity_id: change.identityId,
              inquiry_id: notice.inquiryId,
              purpose: notice.purpose,
              status: notice.status,
              inquiry_created_at: null,
              decided_at: null,
              standing_decision: standingSummaryOf(change.after),
            }),
          ]
        : [],
    ),
  ];

  const emailSettings = settings.email;
  const emailRequests =
    emailSettings === undefined
      ? undefined
      : createEmailRequests({
          minIntervalMs: emailSettings.minIntervalMs,
          now,
          logger: deps.logger,
          writable: () => deps.coordination.writable,
          async submit(identityId, email) {
            // The identity's section makes `oncePer` hold across replicas: one email per interval.
            await deps.coordination.withIdentity(identityId, deadlineIn(EMAIL_REQUEST_BUDGET_MS), (unit) =>
              unit.enqueue([emailMessageOf(identityId, email, emailSettings)]),
            );
            relay.wake();
          },
        });

  return {
    enabled,
    // Without a channel there is nothing to send: no polling, no claim of the lead.
    relay: { ...relay, start: () => (enabled ? relay.start() : undefined) },
    requestEmail: (identityId, email) => emailRequests?.request(identityId, email) ?? false,
    emailsQueued: async () => emailRequests?.idle(),
    async announce(change, unit) {
      if (!enabled) return;
      const events = eventsOf(change);
      const messages: OutboxMessage[] = [
        ...events.flatMap((event) => messagesOf(event, settings)),
        ...change.notices.flatMap((notice) =>
          notice.kind === 'email' && emailSettings !== undefined
            ? [emailMessageOf(change.identityId, notice.email, emailSettings)]
            : [],
        ),
      ];
      if (messages.length === 0) return;
      await unit.enqueue(messages);
      deps.logger.debug(
        { identity_id: change.identityId, notifications: events.map((event) => `${event.type} ${event.id}`) },
        'notifications written',
      );
      relay.wake();
    },
  };
}
