import { describe, expect, it } from 'vitest';
import { createInProcessCoordination } from '../../src/coordination/inProcessCoordination.js';
import { loadConfig } from '../../src/config.js';
import { StartLinks } from '../../src/http/startLinks.js';
import type { KratosApi } from '../../src/kratos/kratosClient.js';
import { createLogger } from '../../src/logger.js';
import { loadMessageCatalogue } from '../../src/messages/catalogue.js';
import { eventNotice } from '../../src/notifications/notice.js';
import { createNotifications, type WrittenChange } from '../../src/notifications/notifications.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { IDENTITY_ID, at, defaultRules, recordAfter } from '../support/records.js';

const SIGNING = `whsec_${Buffer.from('a-random-32-byte-secret-for-test').toString('base64')}`;

function notificationsWith(env: Record<string, string>) {
  const config = loadConfig({
    ORY_WEBHOOK_SECRET: 'kratos-hook-secret-0123456789',
    KRATOS_ADMIN_URL: 'http://kratos:4434',
    PERSONA_API_KEY: 'persona_sandbox_abc',
    PERSONA_TEMPLATE_ID: 'itmpl_abc123',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_0123456789abcdef',
    ...env,
  });
  const coordination = createInProcessCoordination();
  const notifications = createNotifications(config, {
    coordination,
    statuses: defaultRules().statuses,
    logger: createLogger({ level: 'silent' }),
    email: { kratos: {} as KratosApi, messages: loadMessageCatalogue(), links: new StartLinks(config.start) },
  });
  /** Announces in the identity's section, as the record store does. */
  const announce = (change: WrittenChange) =>
    coordination.withIdentity(change.identityId, undefined, (unit) => notifications.announce(change, unit));
  return { notifications, announce, outbox: coordination.outbox };
}

const approved = recordAfter([['inq_1', 'approved', 3, 0]]) as PersonaRecord;

describe('announcing a written change', () => {
  it('routes each event to every receiver NOTIFY_EVENTS names, Slack by SLACK_EVENTS, and ServiceNow always', async () => {
    const { announce, outbox } = notificationsWith({
      NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks,https://b.example/hooks',
      NOTIFY_WEBHOOK_SECRET: SIGNING,
      SLACK_WEBHOOK_URL: 'https://hooks.slack.example/services/x',
      SERVICENOW_INSTANCE_URL: 'https://example.service-now.com',
      SERVICENOW_USERNAME: 'idv',
      SERVICENOW_PASSWORD: 'Zq8-p1vW3k_Xr7tL',
    });
    await announce({ identityId: IDENTITY_ID, before: null, after: approved, notices: [] });
    const waiting = await outbox.claimDue(10, 1_000);
    expect(waiting.map((message) => message.channel)).toEqual([
      expect.stringMatching(/^webhook:[0-9a-f]{16}$/),
      expect.stringMatching(/^webhook:[0-9a-f]{16}$/),
      'servicenow',
    ]);
    expect(new Set(waiting.map((message) => message.id)).size).toBe(1);
  });

  it('writes the events other rooms return with their change (recovery.completed), with the standing decision', async () => {
    const { announce, outbox } = notificationsWith({
      NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks',
      NOTIFY_WEBHOOK_SECRET: SIGNING,
      NOTIFY_EVENTS: 'recovery.completed',
    });
    const notice = eventNotice('recovery.completed', at(30), {
      inquiryId: 'inq_r',
      purpose: 'recovery',
      status: 'approved',
    });
    await announce({ identityId: IDENTITY_ID, before: approved, after: approved, notices: [notice] });
    const [message, ...more] = await outbox.claimDue(10, 1_000);
    expect(more).toEqual([]);
    expect(message?.body).toMatchObject({
      type: 'recovery.completed',
      timestamp: at(30),
      data: {
        identity_id: IDENTITY_ID,
        inquiry_id: 'inq_r',
        purpose: 'recovery',
        status: 'approved',
        standing_decision: { outcome: 'approved', inquiry_id: 'inq_1' },
      },
    });
  });

  it('writes nothing when no channel is configured, and no email without SMTP_URL', async () => {
    const { notifications, announce, outbox } = notificationsWith({});
    await announce({
      identityId: IDENTITY_ID,
      before: null,
      after: approved,
      notices: [{ kind: 'email', email: { template: 'registration', language: null, returnTo: null } }],
    });
    expect(await outbox.claimDue(10, 1_000)).toEqual([]);
    expect(
      notifications.requestEmail(IDENTITY_ID, { template: 'verification_required', language: null, returnTo: null }),
    ).toBe(false);
  });
});
