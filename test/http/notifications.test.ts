import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import type { SimulateAction } from '../../sandbox/personaSimulation.js';
import { startServiceNowStandIn, type ServiceNowStandIn } from '../../sandbox/serviceNowStandIn.js';
import { startSlackStandIn, type SlackStandIn } from '../../sandbox/slackStandIn.js';
import { signPersonaWebhook } from '../../sandbox/personaWebhooks.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../sandbox/webhookReceiver.js';
import { SANDBOX } from '../../sandbox/environment.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Notifications end to end: Persona's decisions reach the service as signed webhooks through the
 * stand-ins, and the service tells Standard Webhooks receivers (which verify every signature with
 * the `standardwebhooks` package), Slack and ServiceNow, each a loopback stand-in recording what
 * it accepted.
 */

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const SECRET = newSecret();

let sandbox: SandboxEnvironment;
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await sandbox?.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function receivers(secret = SECRET) {
  const receiver = await startWebhookReceiver({ secret });
  servers.push(receiver);
  return receiver;
}

interface Setup {
  a: WebhookReceiver;
  b: WebhookReceiver;
  slack: SlackStandIn;
  serviceNow: ServiceNowStandIn;
}

async function startWithReceivers(env: Record<string, string> = {}, scheduleMs?: number[]): Promise<Setup> {
  const [a, b] = [await receivers(), await receivers()];
  const slack = await startSlackStandIn();
  const serviceNow = await startServiceNowStandIn({ username: 'idv-integration', password: 'sn-password-0123456789' });
  servers.push(slack, serviceNow);
  sandbox = await startSandbox({
    env: {
      NOTIFY_WEBHOOK_URLS: `${a.endpoint},${b.endpoint}`,
      NOTIFY_WEBHOOK_SECRET: SECRET,
      SLACK_WEBHOOK_URL: slack.webhookUrl,
      SERVICENOW_INSTANCE_URL: serviceNow.instanceUrl,
      SERVICENOW_USERNAME: 'idv-integration',
      SERVICENOW_PASSWORD: 'sn-password-0123456789',
      ...env,
    },
    ...(scheduleMs !== undefined && { notificationScheduleMs: scheduleMs }),
  });
  return { a, b, slack, serviceNow };
}

const kratosOf = () => sandbox.kratos as KratosStandIn;
const recordOf = (identityId: string) =>
  kratosOf().identity(identityId)?.metadata_admin?.['persona'] as { inquiry_id: string };

async function registered(email = `user-${Math.random()}@example.com`) {
  const { identityId } = await kratosOf().register({ email });
  await sandbox.persona.settled();
  return { identityId, email, inquiryId: recordOf(identityId).inquiry_id };
}

/** Persona moves the inquiry, its webhooks are applied, and the relay sends what they announced. */
async function decide(inquiryId: string, actions: SimulateAction[]) {
  sandbox.persona.simulate(inquiryId, actions);
  await sandbox.persona.settled();
  await sandbox.notifications.relay.runOnce();
}

describe('Standard Webhooks receivers', () => {
  it('each receive a decline once, signed, with ids, statuses, purposes and Persona times only', async () => {
    const { a, b } = await startWithReceivers();
    const jane = await registered('jane.doe@example.com');
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);

    for (const receiver of [a, b]) {
      expect(receiver.verified.map((webhook) => webhook.type)).toEqual(['verification.declined']);
      expect(receiver.refused()).toBe(0);
    }
    const [delivered] = a.verified;
    expect(b.verified[0]?.id).toBe(delivered?.id);
    expect(delivered?.id).toMatch(/^msg_[0-9a-f]{32}$/);
    const inquiry = sandbox.persona.inquiry(jane.inquiryId);
    expect(delivered?.body).toEqual({
      type: 'verification.declined',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        identity_id: jane.identityId,
        inquiry_id: jane.inquiryId,
        purpose: 'onboarding',
        status: 'declined',
        inquiry_created_at: inquiry?.createdAt,
        decided_at: expect.any(String),
        standing_decision: {
          outcome: 'declined',
          status: 'declined',
          inquiry_id: jane.inquiryId,
          decided_at: expect.any(String),
        },
      },
    });
    const body = delivered?.body as { timestamp: string; data: { decided_at: string } };
    expect(body.timestamp).toBe(body.data.decided_at);
    expect(JSON.stringify(delivered?.body)).not.toContain('jane');
  });

  it('tell nothing for a redelivery that changes nothing, nor for steps that decide nothing', async () => {
    const { a } = await startWithReceivers();
    const john = await registered();
    await decide(john.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(a.verified.map((webhook) => webhook.type)).toEqual(['verification.approved']);

    const rawBody = JSON.stringify(sandbox.persona.eventFor(john.inquiryId, 'inquiry.approved'));
    const answer = await fetch(`${sandbox.serviceUrl}/persona/callback`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Persona-Signature': signPersonaWebhook(rawBody, [SANDBOX.personaWebhookSecret], Math.floor(Date.now() / 1000)),
      },
      body: rawBody,
    });
    expect(answer.status).toBe(200);
    await sandbox.notifications.relay.runOnce();
    expect(a.verified).toHaveLength(1);
  });

  it('hear of a review and of the decision that ends it, each as its own event', async () => {
    const { a } = await startWithReceivers();
    const ann = await registered();
    await decide(ann.inquiryId, ['start_inquiry', 'complete_inquiry', 'mark_for_review_inquiry']);
    await decide(ann.inquiryId, ['approve_inquiry']);
    expect(a.verified.map((webhook) => webhook.type)).toEqual(['verification.needs_review', 'verification.approved']);
    expect(new Set(a.verified.map((webhook) => webhook.id)).size).toBe(2);
  });

  it('get only the events NOTIFY_EVENTS lists', async () => {
    const { a, b } = await startWithReceivers({ NOTIFY_EVENTS: 'verification.declined' });
    const approved = await registered();
    await decide(approved.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    const declined = await registered();
    await decide(declined.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    for (const receiver of [a, b]) {
      expect(receiver.verified.map((webhook) => [webhook.type, (webhook.body as { data: object }).data])).toEqual([
        ['verification.declined', expect.objectContaining({ identity_id: declined.identityId })],
      ]);
    }
  });

  it('are tried again after a 5xx, with the same webhook-id, while the others get it at once', async () => {
    const { a, b } = await startWithReceivers({}, [50]);
    a.inject({ method: 'POST', status: 503, times: 2 });
    const paul = await registered();
    await decide(paul.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(b.verified).toHaveLength(1);
    expect(a.verified).toHaveLength(0);

    for (let round = 0; round < 40 && a.verified.length === 0; round += 1) {
      await sleep(50);
      await sandbox.notifications.relay.runOnce();
    }
    expect(a.requests.map((request) => request.status)).toEqual([503, 503, 204]);
    expect(new Set(a.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set([b.verified[0]?.id]));
    expect(a.verified).toHaveLength(1);
  });

  it('refuse a notification signed with another secret: the signature is what they check', async () => {
    const stranger = await receivers(newSecret());
    sandbox = await startSandbox({
      env: { NOTIFY_WEBHOOK_URLS: stranger.endpoint, NOTIFY_WEBHOOK_SECRET: SECRET },
      notificationScheduleMs: [60_000],
    });
    const mary = await registered();
    await decide(mary.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(stranger.refused()).toBe(1);
    expect(stranger.verified).toEqual([]);
  });

  it('verify every signature while NOTIFY_WEBHOOK_SECRET is rotated, with the old secret or the new', async () => {
    const oldSecret = newSecret();
    const [old, renewed] = [await receivers(oldSecret), await receivers(SECRET)];
    sandbox = await startSandbox({
      env: {
        NOTIFY_WEBHOOK_URLS: `${old.endpoint},${renewed.endpoint}`,
        NOTIFY_WEBHOOK_SECRET: `${SECRET},${oldSecret}`,
      },
    });
    const kim = await registered();
    await decide(kim.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(old.verified).toHaveLength(1);
    expect(renewed.verified).toHaveLength(1);
  });
});

describe('a document that does not match the account', () => {
  it('is a verification.mismatch to receivers, and a ServiceNow incident', async () => {
    const { a, serviceNow } = await startWithReceivers({
      ATTRIBUTE_MATCH: 'name-first=name.first,name-last=name.last',
      ATTRIBUTE_MISMATCH_ACTION: 'review',
    });
    const { identityId } = await kratosOf().register({
      email: `user-${Math.random()}@example.com`,
      name: { first: 'Ines', last: 'Varga' },
    });
    await sandbox.persona.settled();
    const { inquiry_id: inquiryId } = recordOf(identityId);
    sandbox.persona.setDocument(inquiryId, { 'name-first': 'OTTO', 'name-last': 'BRANDT' });
    await decide(inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    expect(a.verified.map((webhook) => webhook.body)).toEqual([
      expect.objectContaining({
        type: 'verification.mismatch',
        data: expect.objectContaining({
          inquiry_id: inquiryId,
          status: 'approved',
          standing_decision: expect.objectContaining({ outcome: 'needs_review' }),
        }),
      }),
    ]);
    expect(JSON.stringify(a.verified)).not.toMatch(/ines|varga|otto|brandt/i);
    expect(serviceNow.incidents.map((incident) => incident.short_description)).toEqual([
      `Identity verification: document does not match the account: identity ${identityId}`,
    ]);
  });
});

describe('Slack and ServiceNow', () => {
  it('Slack gets a short message with the event, the identity and the inquiry in Persona', async () => {
    const { slack } = await startWithReceivers();
    const approved = await registered();
    await decide(approved.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    const declined = await registered('rick@example.com');
    await decide(declined.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);

    // SLACK_EVENTS defaults to what needs someone to act: the approval is not posted.
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]).toContain('verification.declined');
    expect(slack.messages[0]).toContain(declined.identityId);
    expect(slack.messages[0]).toContain(
      `<https://app.withpersona.com/dashboard/inquiries/${declined.inquiryId}|${declined.inquiryId} in Persona>`,
    );
    expect(slack.messages[0]).not.toContain('rick');
  });

  it('ServiceNow opens one incident for a review and adds the later decision of the same inquiry to it', async () => {
    const { serviceNow } = await startWithReceivers();
    const approved = await registered();
    await decide(approved.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(serviceNow.incidents).toEqual([]);

    const reviewed = await registered();
    await decide(reviewed.inquiryId, ['start_inquiry', 'complete_inquiry', 'mark_for_review_inquiry']);
    expect(serviceNow.incidents).toHaveLength(1);
    expect(serviceNow.incidents[0]).toMatchObject({
      correlation_id: reviewed.inquiryId,
      correlation_display: 'ory-persona-idv',
      short_description: `Identity verification needs review: identity ${reviewed.identityId}`,
      workNotes: [],
    });
    expect(serviceNow.incidents[0]?.description).toContain(reviewed.inquiryId);

    await decide(reviewed.inquiryId, ['decline_inquiry']);
    expect(serviceNow.incidents).toHaveLength(1);
    expect(serviceNow.incidents[0]?.workNotes).toHaveLength(1);
    expect(serviceNow.incidents[0]?.workNotes[0]).toContain('Event: verification.declined');

    const writes = serviceNow.requests.filter((request) => request.method !== 'GET');
    expect(writes.map((request) => [request.method, request.status])).toEqual([
      ['POST', 201],
      ['PATCH', 200],
    ]);
  });

  it('ServiceNow credentials that the instance refuses are tried again, and nothing is opened', async () => {
    const serviceNow = await startServiceNowStandIn({ username: 'idv-integration', password: 'the-right-password-01' });
    servers.push(serviceNow);
    sandbox = await startSandbox({
      env: {
        SERVICENOW_INSTANCE_URL: serviceNow.instanceUrl,
        SERVICENOW_USERNAME: 'idv-integration',
        SERVICENOW_PASSWORD: 'a-wrong-password-0123',
      },
      notificationScheduleMs: [60_000],
    });
    const lee = await registered();
    await decide(lee.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(serviceNow.requests.map((request) => request.status)).toEqual([401]);
    expect(serviceNow.incidents).toEqual([]);
  });
});
