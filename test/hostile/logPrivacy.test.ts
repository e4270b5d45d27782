import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import approvedExample from '../fixtures/persona/persona-event-inquiry-approved.json' with { type: 'json' };
import {
  ORY_WEBHOOK_SECRET,
  PERSONA_API_KEY,
  PERSONA_WEBHOOK_SECRET,
  TEMPLATE_ID,
  startHarness,
  type Harness,
} from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const PERSON = {
  email: 'janette.doelittle@example.com',
  name: { first: 'Janette', last: 'Doelittle' },
  birthdate: '1987-06-05',
};

describe('the logs of a full flow', () => {
  it('hold no personal data, secret, session or link token, at the most verbose level', async () => {
    harness = await startHarness({
      LOG_LEVEL: 'trace',
      LOGIN_POLICY: 'require-approved',
      PUBLIC_BASE_URL: 'https://idv.example.com',
      RETURN_TO_ALLOWLIST: 'https://app.example.com',
      PERSONA_PREFILL_FIELDS: 'name-first=name.first,name-last=name.last,birthdate=birthdate,email-address=email',
    });
    const identity = harness.kratos.createIdentity({ traits: PERSON });
    const secrets: string[] = [ORY_WEBHOOK_SECRET, PERSONA_WEBHOOK_SECRET, PERSONA_API_KEY];

    // Registration, with Persona failing once with personal data in its error body.
    harness.persona.inject({
      path: '/api/v1/inquiries',
      status: 500,
      body: { errors: [{ title: `bad ${PERSON.email}` }] },
    });
    const initiated = await harness
      .postHook('/persona/initiate', { identity_id: identity.id, traits: PERSON })
      .expect(200);
    const inquiryId = initiated.body.inquiry_id as string;

    // A blocked login hands out a signed link; the user follows it.
    const blocked = await harness.postHook('/persona/validate', {
      identity_id: identity.id,
      identity_created_at: identity.created_at,
      persona: { status: 'created', verified_at: null },
      return_to: 'https://app.example.com/home',
    });
    const link = new URL(blocked.body.messages[0].messages[0].context.verify_url as string);
    secrets.push(link.searchParams.get('token') as string);
    await request(harness.app)
      .get(link.pathname + link.search)
      .expect(303);

    // The user starts and resumes with a session; Kratos fails once with personal data in its body.
    const session = harness.kratos.createSession(identity.id);
    secrets.push(session.token);
    harness.clock.now += 1_000;
    harness.persona.setStatus(inquiryId, 'pending');
    await harness.postEvent(harness.persona.eventFor(inquiryId, 'inquiry.started')).expect(200);
    const started = await request(harness.app).get('/persona/start').set('X-Session-Token', session.token).expect(303);
    secrets.push(new URL(started.headers['location'] as string).searchParams.get('code') as string);
    harness.kratos.inject({
      method: 'GET',
      status: 500,
      times: 3,
      body: { error: { code: 500, message: 'Internal Server Error', reason: `no ${PERSON.name.last}` } },
    });
    await request(harness.app).get('/persona/status').set('Cookie', session.cookie).expect(503);
    secrets.push(session.cookie);

    // Persona's approval, shaped like its docs (full of the verified person's fields).
    const event = structuredClone(approvedExample);
    event.data.id = 'evt_PrivacyFlow1';
    event.data.attributes['created-at'] = new Date(harness.clock.now + 5_000).toISOString();
    Object.assign(event.data.attributes.payload.data, { id: inquiryId });
    Object.assign(event.data.attributes.payload.data.attributes, { 'reference-id': identity.id });
    event.data.attributes.payload.data.relationships['inquiry-template'].data.id = TEMPLATE_ID;
    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    await harness.postHook('/persona/validate', { identity_id: identity.id, persona: null }).expect(204);

    const log = harness.logText();
    expect(harness.logs.filter((line) => line['msg'] === 'request completed')).toHaveLength(8);
    const forbidden = [
      PERSON.email,
      PERSON.name.first,
      PERSON.name.last,
      PERSON.birthdate,
      'Jane',
      'Doe',
      '1995-09-08',
      'jane@doe.com',
      ...secrets,
    ];
    expect(forbidden.filter((value) => log.includes(value))).toEqual([]);
    expect(log).not.toMatch(/ory_st_|pst_|wbhsec_|persona_sandbox_/);
  });
});
