import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import type { SimulateAction } from '../../sandbox/personaSimulation.js';
import type { RedeliveryOptions } from '../../sandbox/personaWebhooks.js';
import { createLogger } from '../../src/logger.js';
import { serviceNote } from '../../src/persona/inquiry.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Attribute comparison end to end: Kratos registers the person, Persona's stand-in approves an
 * inquiry whose government-id verification reads the document, the service compares it with the
 * traits before the approval counts, and the login gate goes by the result.
 */

const ATTRIBUTE_MATCH = 'name-first=name.first,name-last=name.last,birthdate=birthdate';
/** Values no log line or metadata may carry, in any spelling the document or traits use. */
const PERSON = { first: 'Zéphyrine', last: 'Okonkwo-Hale', birthdate: '1987-03-14' };
const PERSON_PATTERN = /z.?phyrine|okonkwo|hale|1987|03\/14|14\.03|marguerite|1990-11-02/i;
const SOMEONE_ELSE = { 'name-first': 'MARGUERITE', 'name-last': 'OKONKWO HALE', birthdate: '1990-11-02' };

let sandbox: SandboxEnvironment;
let lines: string[];

async function start(env: Record<string, string>, options: { redelivery?: RedeliveryOptions } = {}) {
  lines = [];
  sandbox = await startSandbox({
    env: { ATTRIBUTE_MATCH, ...env },
    logger: createLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    ...options,
  });
}

const kratosOf = (env: SandboxEnvironment) => env.kratos as KratosStandIn;
const metadataOf = (identityId: string) => {
  const identity = kratosOf(sandbox).identity(identityId);
  return { admin: identity?.metadata_admin?.['persona'] as Record<string, any>, public: identity?.metadata_public };
};

async function registered() {
  const result = await kratosOf(sandbox).register({
    email: `zephyrine-${Math.random()}@example.com`,
    name: { first: PERSON.first, last: PERSON.last },
    birthdate: PERSON.birthdate,
  });
  await sandbox.persona.settled();
  return { ...result, inquiryId: metadataOf(result.identityId).admin['inquiry_id'] as string };
}

async function decide(inquiryId: string, actions: SimulateAction[]) {
  sandbox.persona.simulate(inquiryId, actions);
  await sandbox.persona.settled();
}

const login = async (identityId: string) => (await kratosOf(sandbox).login(identityId)).hook.reading;

const whoami = async (token: string) =>
  (await fetch(`${kratosOf(sandbox).url}/sessions/whoami`, { headers: { 'X-Session-Token': token } })).status;

/** Nothing of the person in what the service logged or wrote on the identity. */
function expectNothingPersonal(identityId: string) {
  expect(lines.join('')).not.toMatch(PERSON_PATTERN);
  const { admin, public: mirror } = metadataOf(identityId);
  expect(JSON.stringify({ admin, mirror })).not.toMatch(PERSON_PATTERN);
}

describe('attribute comparison', () => {
  afterEach(() => sandbox.close());

  it('lets in a person whose verified document matches the traits, and stores only outcomes', async () => {
    await start({ LOGIN_POLICY: 'require-approved' });
    const jane = await registered();
    expect(await login(jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100002 });
    // The document reads as documents do: capitals, another date format. Relaxed rules match it.
    sandbox.persona.setDocument(jane.inquiryId, {
      'name-first': 'ZEPHYRINE',
      'name-last': 'OKONKWO HALE',
      birthdate: '1987-03-14',
    });
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({
      outcome: 'approved',
      attribute_match: {
        outcome: 'match',
        attributes: { 'name-first': 'match', 'name-last': 'match', birthdate: 'match' },
        rules: 'relaxed',
        checked_at: expect.any(String),
      },
    });
    const documentReads = sandbox.persona.requests.filter(
      (request) => request.query.get('include') === 'verifications',
    );
    expect(documentReads).toHaveLength(1);
    expectNothingPersonal(jane.identityId);
  });

  it("under review: keeps someone else's document out under require-approved, until a reviewer approves again", async () => {
    await start({ LOGIN_POLICY: 'require-approved' });
    const jane = await registered();
    sandbox.persona.setDocument(jane.inquiryId, SOMEONE_ELSE);
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    expect(await login(jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100002 });
    expect(metadataOf(jane.identityId).public).toEqual({
      persona: {
        status: 'needs_review',
        verified_at: null,
        inquiry_status: 'approved',
        step_up_verified_at: null,
        reverification_required: false,
      },
    });
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({
      outcome: 'needs_review',
      attribute_match: {
        outcome: 'mismatch',
        attributes: { 'name-first': 'mismatch', 'name-last': 'match', birthdate: 'mismatch' },
      },
    });
    // The person's own page says a person at Persona decides next.
    const blocked = (await login(jane.identityId)) as unknown as { context: { verify_url: string } };
    const statusUrl = blocked.context.verify_url.replace('/persona/start', '/persona/status');
    expect(await (await fetch(statusUrl)).json()).toMatchObject({ status: 'needs_review' });

    // The reviewer looks at the mismatch and approves the inquiry again in Persona.
    await decide(jane.inquiryId, ['approve_inquiry']);
    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({
      outcome: 'approved',
      attribute_match: { outcome: 'mismatch' },
    });
    expectNothingPersonal(jane.identityId);
  });

  it('under review with block-declined: lets the person in, since only declines block there', async () => {
    await start({});
    const jane = await registered();
    sandbox.persona.setDocument(jane.inquiryId, SOMEONE_ELSE);
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(metadataOf(jane.identityId).public).toMatchObject({ persona: { status: 'needs_review' } });
    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
  });

  it('under review: never lifts a decline that stands', async () => {
    await start({ ALLOW_RETRIES: 'true' });
    const jane = await registered();
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    // A retry the service opened (as /persona/start does), approved with someone else's document.
    const retry = sandbox.persona.addInquiry({
      referenceId: jane.identityId,
      note: serviceNote('reverification'),
      document: SOMEONE_ELSE,
    });
    await decide(retry.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(metadataOf(jane.identityId).admin['decisions']).toContainEqual(
      expect.objectContaining({ inquiry_id: retry.id, outcome: 'needs_review' }),
    );
    expect(await login(jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
  });

  it('under decline: declines the approval, with ON_DECLINE', async () => {
    await start({ ATTRIBUTE_MISMATCH_ACTION: 'decline' });
    const jane = await registered();
    expect(await whoami(jane.session?.token as string)).toBe(200);
    sandbox.persona.setDocument(jane.inquiryId, SOMEONE_ELSE);
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    expect(await login(jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(await whoami(jane.session?.token as string)).toBe(401);
    expect(metadataOf(jane.identityId).admin).toMatchObject({
      status: 'approved',
      decision: {
        outcome: 'declined',
        status: 'approved',
        attribute_match: { outcome: 'mismatch', on_mismatch: 'decline' },
      },
      actions: { pending: [], sessions_revoked_at: expect.any(String) },
    });
    expectNothingPersonal(jane.identityId);
  });

  it('under flag: approves, and records the mismatch', async () => {
    await start({ ATTRIBUTE_MISMATCH_ACTION: 'flag', LOGIN_POLICY: 'require-approved' });
    const jane = await registered();
    sandbox.persona.setDocument(jane.inquiryId, { ...SOMEONE_ELSE, 'name-first': null });
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({
      outcome: 'approved',
      attribute_match: { outcome: 'mismatch', attributes: { 'name-first': 'missing', birthdate: 'mismatch' } },
    });
    expectNothingPersonal(jane.identityId);
  });

  it("keeps the compared traits out of the person's reach, before and after the approval", async () => {
    await start({ LOGIN_POLICY: 'require-approved', LOGIN_GRACE_PERIOD: '24h', STEP_UP_TRAITS: 'email' });
    const jane = await registered();
    const changeTo = async (token: string, person: typeof PERSON) =>
      kratosOf(sandbox).changeSettings(token, {
        method: 'profile',
        traits: {
          ...kratosOf(sandbox).identity(jane.identityId)?.traits,
          name: { first: person.first, last: person.last },
          birthdate: person.birthdate,
        },
      });
    const holder = { first: 'Marguerite', last: 'Dupont', birthdate: '1990-11-02' };

    // Before verifying, within the grace period: the traits cannot be made to match someone else's document.
    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
    const before = await changeTo(kratosOf(sandbox).createSession(jane.identityId).token, holder);
    expect(before).toMatchObject({ saved: false, hook: { status: 403, reading: { id: 4100007 } } });

    // After a matching approval, with a fresh verification: still not.
    sandbox.persona.setDocument(jane.inquiryId, {
      'name-first': 'ZEPHYRINE',
      'name-last': 'OKONKWO-HALE',
      birthdate: '1987-03-14',
    });
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({ attribute_match: { outcome: 'match' } });
    const after = await changeTo(kratosOf(sandbox).createSession(jane.identityId).token, holder);
    expect(after).toMatchObject({ saved: false, hook: { status: 403, reading: { id: 4100007 } } });
    expect(kratosOf(sandbox).identity(jane.identityId)?.traits).toMatchObject({
      name: { first: PERSON.first, last: PERSON.last },
      birthdate: PERSON.birthdate,
    });
    expectNothingPersonal(jane.identityId);
  });

  it('applies nothing while the document cannot be read, answers 503, and applies the approval on redelivery', async () => {
    await start({ LOGIN_POLICY: 'require-approved' }, { redelivery: { scale: 1 / 30 } });
    const jane = await registered();
    sandbox.persona.inject({ method: 'GET', path: `/api/v1/inquiries/${jane.inquiryId}`, status: 500, times: 3 });
    await decide(jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    const approved = sandbox.persona.deliveries.find((delivery) => delivery.name === 'inquiry.approved');
    expect(approved).toMatchObject({ lastStatus: 503, state: 'retrying' });
    expect(metadataOf(jane.identityId).admin).toMatchObject({ status: 'completed', decision: null });

    for (let waited = 0; approved?.state !== 'delivered' && waited < 5_000; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      await sandbox.persona.settled();
    }
    expect(approved).toMatchObject({ lastStatus: 200, state: 'delivered', attempts: 2 });
    expect(metadataOf(jane.identityId).admin['decision']).toMatchObject({
      outcome: 'approved',
      attribute_match: { outcome: 'match' },
    });
    expect(await login(jane.identityId)).toEqual({ kind: 'continue' });
    expect(lines.join('')).toContain('event not applied; Persona will deliver it again');
    expectNothingPersonal(jane.identityId);
  });
});

describe('attribute comparison: inquiries read from the API', () => {
  let harness: Harness;
  afterEach(() => harness.close());
  const lastTwoDays = () => new Date(harness.clock.now - 48 * 3_600_000);
  const decisionOf = (identityId: string) =>
    (harness.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, any> | undefined)?.['decision'];

  /** An identity of PERSON whose onboarding inquiry (opened by the initiate hook) reads `document`. */
  async function registeredWith(document: object) {
    const identity = harness.kratos.createIdentity({
      traits: { email: 'z@example.com', name: { first: PERSON.first, last: PERSON.last }, birthdate: PERSON.birthdate },
    });
    const inquiryId = (await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200)).body
      .inquiry_id as string;
    harness.persona.setDocument(inquiryId, document);
    return { identityId: identity.id, inquiryId };
  }

  it('compares an approved inquiry that a lookup after a failed create finds', async () => {
    harness = await startHarness({ ATTRIBUTE_MATCH, LOGIN_POLICY: 'require-approved' });
    const identity = harness.kratos.createIdentity({
      traits: { email: 'z@example.com', name: { first: PERSON.first, last: PERSON.last }, birthdate: PERSON.birthdate },
    });
    // Persona made the inquiry but failed the answer; by the time the service looks, it is approved.
    const made = harness.persona.addInquiry({
      referenceId: identity.id,
      status: 'approved',
      note: serviceNote('onboarding'),
      document: SOMEONE_ELSE,
    });
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', status: 500 });

    await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200, {
      status: 'approved',
      inquiry_id: made.id,
    });
    expect(decisionOf(identity.id)).toMatchObject({
      outcome: 'needs_review',
      attribute_match: { outcome: 'mismatch' },
    });
  });

  it('compares a lost approval too, retrying a Persona failure before anything is applied', async () => {
    harness = await startHarness({ ATTRIBUTE_MATCH, LOGIN_POLICY: 'require-approved' });
    const { identityId, inquiryId } = await registeredWith(SOMEONE_ELSE);
    harness.clock.now += 1_000;
    harness.persona.setStatus(inquiryId, 'approved');
    harness.persona.inject({ method: 'GET', path: `/api/v1/inquiries/${inquiryId}`, status: 503, times: 3 });

    expect(await harness.reconcile(lastTwoDays())).toMatchObject({ checked: 1, changed: 0, failed: 1 });
    expect(decisionOf(identityId)).toBeNull();

    expect(await harness.reconcile(lastTwoDays())).toMatchObject({ checked: 1, changed: 1, failed: 0 });
    expect(decisionOf(identityId)).toMatchObject({ outcome: 'needs_review', attribute_match: { outcome: 'mismatch' } });
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toMatchObject({ status: 'needs_review' });
    expect(harness.logText()).not.toMatch(PERSON_PATTERN);
  });

  it('keeps an approval held for review when its webhook lost decisioned-at and reconciliation reads it later', async () => {
    harness = await startHarness({ ATTRIBUTE_MATCH, LOGIN_POLICY: 'require-approved' });
    const { identityId, inquiryId } = await registeredWith(SOMEONE_ELSE);
    harness.clock.now += 1_000;
    harness.persona.setStatus(inquiryId, 'approved');
    // An attribute blocklist took decisioned-at out of the payload, whose updated-at is a second later.
    const event = harness.persona.eventFor(inquiryId, 'inquiry.approved') as {
      data: { attributes: { payload: { data: { attributes: Record<string, unknown> } } } };
    };
    const attributes = event.data.attributes.payload.data.attributes;
    delete attributes['decisioned-at'];
    attributes['updated-at'] = new Date(harness.clock.now + 1_000).toISOString();
    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(decisionOf(identityId)).toMatchObject({ outcome: 'needs_review' });

    // The same single approval, read from the API with its decisioned-at: nobody approved again.
    harness.clock.now += 60_000;
    await harness.reconcile(lastTwoDays());
    expect(decisionOf(identityId)).toMatchObject({ outcome: 'needs_review' });
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toMatchObject({ status: 'needs_review' });
  });
});
