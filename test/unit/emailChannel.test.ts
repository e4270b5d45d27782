import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type Mail from 'nodemailer/lib/mailer';
import { loadConfig } from '../../src/config.js';
import { StartLinks } from '../../src/http/startLinks.js';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { loadMessageCatalogue } from '../../src/messages/catalogue.js';
import { emailChannel } from '../../src/notifications/email/emailChannel.js';
import type { EmailBody } from '../../src/notifications/email/emailChannel.js';
import { loginPolicyOf } from '../../src/policy/loginPolicy.js';
import { decisionStatuses } from '../../src/services.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { PERSONA_API_KEY, PERSONA_WEBHOOK_SECRET, ORY_WEBHOOK_SECRET, TEMPLATE_ID } from '../support/harness.js';

/**
 * The email channel on its own, against the Kratos stand-in (or a Kratos that never answers) and a
 * transport of the test's: whom it mails, and that the attempt's signal ends it wherever it waits.
 */

let kratos: KratosStandIn | undefined;
let hung: Server | undefined;
afterEach(async () => {
  await kratos?.close();
  hung?.closeAllConnections();
  await new Promise((resolve) => (hung?.listening ? hung.close(resolve) : resolve(undefined)));
});

/** A transport that records each message, or never answers. */
function transport(behaviour: 'records' | 'hangs') {
  const sent: Mail.Options[] = [];
  const mail = {
    sendMail: (options: Mail.Options) => {
      sent.push(options);
      return behaviour === 'hangs' ? new Promise(() => undefined) : Promise.resolve({});
    },
  } as unknown as Mail;
  return { mail, sent };
}

function channelOver(kratosAdminUrl: string, mail: Mail) {
  const config = loadConfig({
    ORY_WEBHOOK_SECRET,
    KRATOS_ADMIN_URL: kratosAdminUrl,
    KRATOS_PUBLIC_URL: kratosAdminUrl,
    PERSONA_API_KEY,
    PERSONA_TEMPLATE_ID: TEMPLATE_ID,
    PERSONA_WEBHOOK_SECRET,
    LOGIN_POLICY: 'require-approved',
    SMTP_URL: 'smtp://127.0.0.1:9',
    EMAIL_FROM: 'idv@example.com',
    PUBLIC_BASE_URL: 'https://idv.example.com',
  });
  return emailChannel(config.notifications.email!, {
    kratos: createKratosClient(config.kratos),
    messages: loadMessageCatalogue(),
    links: new StartLinks(config.start),
    rules: { policy: loginPolicyOf(config), statuses: decisionStatuses(config) },
    now: Date.now,
    transport: mail,
  });
}

const delivery = (identityId: string, template: EmailBody['template']) => ({
  id: 'email_1',
  channel: 'email',
  body: { identity_id: identityId, template, language: null, return_to: null } satisfies EmailBody,
  attempts: 0,
  enqueuedAt: Date.now(),
});

describe('the email channel', () => {
  it('sends the gate’s signed link only to a verified address; the registration link, which needs a sign-in, to the address as typed', async () => {
    kratos = await startKratosStandIn();
    const { mail, sent } = transport('records');
    const channel = channelOver(kratos.adminUrl, mail);
    const { id } = kratos.createIdentity({
      traits: { email: 'typed@example.com' },
      created_at: '2020-01-01T00:00:00Z',
    });

    const signal = new AbortController().signal;
    expect(await channel.deliver(delivery(id, 'verification_required'), signal)).toEqual({
      kind: 'skipped',
      reason: 'no_email_address',
    });
    expect(await channel.deliver(delivery(id, 'registration'), signal)).toEqual({ kind: 'delivered' });
    expect(sent.map((options) => options.to)).toEqual([{ name: '', address: 'typed@example.com' }]);
    expect(String(sent[0]?.text)).toContain('https://idv.example.com/persona/start\n');

    kratos.verifyEmail(id);
    expect(await channel.deliver(delivery(id, 'verification_required'), signal)).toEqual({ kind: 'delivered' });
    expect(String(sent[1]?.text)).toMatch(/persona\/start\?token=/);
  });

  it('ends its attempt when the signal fires, in the Kratos lookup and in the SMTP send alike', async () => {
    hung = createServer((req) => void req.resume());
    await new Promise<void>((resolve) => hung!.listen(0, '127.0.0.1', resolve));
    const silentKratos = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const lookup = new AbortController();
    const stuckInKratos = channelOver(silentKratos, transport('records').mail).deliver(
      delivery('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', 'verification_required'),
      lookup.signal,
    );
    lookup.abort();
    expect(await stuckInKratos).toEqual({ kind: 'failed', reason: 'kratos_unavailable' });

    kratos = await startKratosStandIn();
    const { id } = kratos.createIdentity({
      traits: { email: 'tarpit@example.com' },
      created_at: '2020-01-01T00:00:00Z',
    });
    kratos.verifyEmail(id);
    const { mail, sent } = transport('hangs');
    const send = new AbortController();
    const stuckInSmtp = channelOver(kratos.adminUrl, mail).deliver(delivery(id, 'verification_required'), send.signal);
    while (sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    send.abort();
    expect(await stuckInSmtp).toEqual({ kind: 'failed', reason: 'timeout' });
  });
});
