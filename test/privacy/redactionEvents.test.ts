import { afterEach, describe, expect, it } from 'vitest';
import { PERSONA_WEBHOOK_SECRET, startHarness, type Harness } from '../support/harness.js';
import { recordOf, registeredAndDecided } from '../support/privacy.js';

let harness: Harness;
afterEach(() => harness.close());

/** Persona's webhooks go to the served service, signed as Persona signs them. */
async function personaDelivers(h: Harness) {
  const url = await h.serve();
  h.persona.setWebhook({ url: `${url}/persona/callback`, secrets: [PERSONA_WEBHOOK_SECRET] });
}

describe('inquiry.redacted and account.redacted (redacted in Persona’s dashboard, or by a policy of Persona’s)', () => {
  it('note an inquiry’s redaction on the record, and keep the status and the decline', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const before = recordOf(harness, identityId);
    await personaDelivers(harness);

    const redacted = await harness.personaClient.redactInquiry(inquiryId);
    await harness.persona.settled();

    expect(harness.persona.deliveries.at(-1)).toMatchObject({ name: 'inquiry.redacted', state: 'delivered' });
    expect(recordOf(harness, identityId)).toEqual({
      ...before,
      redaction: {
        redacted_at: redacted?.redactedAt,
        account_redacted_at: null,
        inquiries: [{ inquiry_id: inquiryId, redacted_at: redacted?.redactedAt }],
        forgotten: null,
      },
    });
    expect((await harness.kratos.login(identityId)).hook.reading).toMatchObject({ id: 4100001 });
  });

  it('note an account’s redaction, with every inquiry of the record in it', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;
    await personaDelivers(harness);

    const account = await harness.personaClient.redactAccount(accountId);
    await harness.persona.settled();

    expect(harness.persona.deliveries.slice(-2).map((delivery) => [delivery.name, delivery.state])).toEqual([
      ['inquiry.redacted', 'delivered'],
      ['account.redacted', 'delivered'],
    ]);
    expect(recordOf(harness, identityId)).toMatchObject({
      status: 'approved',
      decision: { outcome: 'approved' },
      redaction: { account_redacted_at: account?.redactedAt, inquiries: [{ inquiry_id: inquiryId }] },
    });
  });

  it('leave the record alone for an inquiry it does not hold', async () => {
    harness = await startHarness();
    const { identityId } = await registeredAndDecided(harness, 'approved');
    const stranger = harness.persona.addInquiry({ referenceId: identityId });
    await harness.personaClient.redactInquiry(stranger.id);

    await harness
      .postEvent(harness.persona.eventFor(stranger.id, 'inquiry.redacted'))
      .expect(200, { outcome: 'ignored', reason: 'not_opened_by_service' });
    expect(recordOf(harness, identityId)?.['redaction']).toBeNull();
  });
});
