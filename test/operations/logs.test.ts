import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { ORY_WEBHOOK_SECRET, PERSONA_WEBHOOK_SECRET, startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const line = (h: Harness, route: string) =>
  h.logs.filter((entry) => entry['msg'] === 'request completed' && entry['route'] === route);

describe('request logs', () => {
  it('write one JSON line per request with route, status, duration and the correlation ids', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const initiated = await harness
      .postHook('/persona/initiate', { identity_id: identity.id })
      .set('Ory-Webhook-Request-ID', 'req-attempt-1')
      .set('Ory-Webhook-Trigger-ID', 'trigger-42')
      .expect(200);
    harness.clock.now += 1_000;
    harness.persona.setStatus(initiated.body.inquiry_id, 'approved');
    const event = harness.persona.eventFor(initiated.body.inquiry_id, 'inquiry.approved');
    await harness.postEvent(event).set('Persona-Webhook-Attempts-Made', '2').expect(200);

    const [initiate] = line(harness, '/persona/initiate');
    expect(initiate).toMatchObject({
      level: 30,
      service: 'ory-persona-idv',
      method: 'POST',
      status: 200,
      duration_ms: expect.any(Number),
      ory_request_id: 'req-attempt-1',
      ory_trigger_id: 'trigger-42',
      identity_id: identity.id,
      outcome: 'applied',
      outbound_calls: 3,
      persona_request_ids: [expect.stringMatching(/^req_/)],
    });
    const [callback] = line(harness, '/persona/callback');
    expect(callback).toMatchObject({
      status: 200,
      persona_event_id: event.data.id,
      event_name: 'inquiry.approved',
      persona_attempts_made: '2',
      outcome: 'applied',
      outbound_calls: 2,
    });
    expect(harness.logText()).not.toContain(ORY_WEBHOOK_SECRET);
    expect(harness.logText()).not.toContain(PERSONA_WEBHOOK_SECRET);
  });

  it('logs 4xx at warn with the error code, and drops correlation ids that are not ids', async () => {
    harness = await startHarness();
    await request(harness.app)
      .post('/persona/initiate')
      .set('Content-Type', 'application/json')
      .set('Ory-Webhook-Request-ID', 'evil"} {"level":60')
      .send('{}')
      .expect(401);
    const [entry] = line(harness, '/persona/initiate');
    expect(entry).toMatchObject({ level: 40, status: 401, error_code: 'unauthorized' });
    expect(entry).not.toHaveProperty('ory_request_id');
  });

  it('censors secrets, cookies, tokens and personal data wherever a field carries them', () => {
    const written: string[] = [];
    const logger = createLogger({ level: 'info' }, { write: (text: string) => void written.push(text) });
    logger.info(
      {
        authorization: 'Bearer persona_production_x',
        cookie: 'ory_kratos_session=abc',
        headers: {
          cookie: 'ory_kratos_session=abc',
          'x-session-token': 'ory_st_abc',
          'x-webhook-secret': 'the-hook-secret-value',
        },
        traits: { email: 'jane@example.com' },
        payload: { fields: { 'name-first': 'Jane' } },
        config: { apiKey: 'persona_production_y', secret: 'z' },
      },
      'careless line',
    );
    const entry = JSON.parse(written[0] as string) as Record<string, unknown>;
    expect(JSON.stringify(entry)).not.toMatch(
      /persona_production|ory_kratos_session|ory_st_|the-hook-secret-value|jane@example\.com|Jane/,
    );
    expect(entry['authorization']).toBe('[redacted]');
  });
});
