import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_OFF_HINT } from '../../src/routes/metrics.js';
import { startupSummary } from '../../src/startupSummary.js';
import { startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads Prometheus's text format into samples. */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]),
      );
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
}

const value = (all: Sample[], name: string, labels: Record<string, string>) =>
  all.find((sample) => sample.name === name && Object.entries(labels).every(([key, v]) => sample.labels[key] === v))
    ?.value;

describe('GET /metrics', () => {
  it('counts requests, webhook results, gate decisions and outbound calls of a scripted flow', async () => {
    harness = await startHarness({ HOST: '127.0.0.1' });
    const identity = harness.kratos.createIdentity();
    const initiated = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    const inquiryId = initiated.body.inquiry_id as string;

    harness.clock.now += 1_000;
    harness.persona.setStatus(inquiryId, 'approved');
    const approved = harness.persona.eventFor(inquiryId, 'inquiry.approved');
    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    await harness.postEvent(approved).expect(200, { outcome: 'duplicate' });
    await harness
      .postEvent(harness.persona.eventFor(inquiryId, 'inquiry.completed', { createdAt: new Date(0).toISOString() }))
      .expect(200);
    await harness
      .postEvent({ data: { type: 'event', id: 'evt_Other1', attributes: { name: 'case.created' } } })
      .expect(200);
    await harness.postEvent(approved, { secrets: ['wbhsec_not_ours_0000000000'] }).expect(401);
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 3 });
    harness.clock.now += 1_000;
    harness.persona.setStatus(inquiryId, 'declined');
    await harness.postEvent(harness.persona.eventFor(inquiryId, 'inquiry.declined')).expect(503);

    await harness
      .postHook('/persona/validate', { identity_id: identity.id, persona: { status: 'approved' } })
      .expect(204);
    await harness
      .postHook('/persona/validate', { identity_id: identity.id, persona: { status: 'declined' } })
      .expect(403);
    harness.persona.inject({ path: '/api/v1/inquiries', status: 429, headers: { 'RateLimit-Reset': '60' } });
    await harness.postHook('/persona/initiate', { identity_id: harness.kratos.createIdentity().id }).expect(200);

    const response = await request(harness.app).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const all = samples(response.text);

    const webhook = (event: string, result: string) => value(all, 'persona_webhook_events_total', { event, result });
    expect(webhook('inquiry.approved', 'applied')).toBe(1);
    expect(webhook('inquiry.approved', 'duplicate')).toBe(1);
    expect(webhook('inquiry.completed', 'stale')).toBe(1);
    expect(webhook('case.created', 'ignored')).toBe(1);
    expect(webhook('unknown', 'rejected')).toBe(1);
    expect(webhook('inquiry.declined', 'failed')).toBe(1);

    expect(value(all, 'login_gate_decisions_total', { decision: 'allow', reason: 'not_declined' })).toBe(1);
    expect(value(all, 'login_gate_decisions_total', { decision: 'block', reason: 'declined' })).toBe(1);

    expect(value(all, 'http_request_duration_seconds_count', { route: '/persona/callback', status: '200' })).toBe(4);
    expect(value(all, 'http_request_duration_seconds_count', { route: '/persona/callback', status: '503' })).toBe(1);
    expect(value(all, 'http_request_duration_seconds_count', { route: '/persona/initiate', status: '200' })).toBe(2);

    expect(
      value(all, 'outbound_request_duration_seconds_count', {
        target: 'persona',
        operation: 'createInquiry',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(
      value(all, 'outbound_request_errors_total', {
        target: 'persona',
        operation: 'createInquiry',
        reason: 'rate_limited',
      }),
    ).toBe(1);
    expect(
      value(all, 'outbound_request_errors_total', {
        target: 'kratos',
        operation: 'patchIdentity',
        reason: 'server_error',
      }),
    ).toBe(3);
    expect(
      value(all, 'outbound_request_duration_seconds_count', {
        target: 'kratos',
        operation: 'getIdentity',
        outcome: 'ok',
      }),
    ).toBeGreaterThanOrEqual(5);

    expect(all.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(all.some((sample) => sample.name === 'nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    harness = await startHarness({ METRICS_TOKEN: 'metrics-token-0123456789abcdef' });
    expect((await request(harness.app).get('/metrics')).status).toBe(401);
    expect(
      (await request(harness.app).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789abcdeX')).status,
    ).toBe(401);
    const ok = await request(harness.app).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789abcdef');
    expect(ok.status).toBe(200);
  });

  it('is not served without a token on a service that listens beyond loopback', async () => {
    harness = await startHarness({ HOST: '0.0.0.0' });
    const response = await request(harness.app).get('/metrics').set('Accept', 'application/json');
    expect(response.status).toBe(404);
    expect(response.text).not.toContain('process_cpu');
    expect(startupSummary(harness.config).warnings.map((warning) => warning.message)).toContain(METRICS_OFF_HINT);
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      await harness.close();
      harness = await startHarness({ HOST: host });
      expect((await request(harness.app).get('/metrics')).status, host).toBe(200);
    }
  });

  it('is not on the service port when METRICS_PORT is set', async () => {
    harness = await startHarness({ METRICS_PORT: '9464' });
    expect((await request(harness.app).get('/metrics')).status).toBe(404);
  });
});
