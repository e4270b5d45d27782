import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { identityKey, leadershipKey } from '../../src/coordination/postgres/advisoryKeys.js';
import { REDACTION_SWEEP_LEAD } from '../../src/privacy/sweep/redactionSweeps.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { ADMIN_ENV, adminClient, type AdminClient } from '../support/admin.js';
import { PERSONA_API_KEY, TEMPLATE_ID, baseEnv } from '../support/harness.js';
import { runCommandProcess } from '../support/serverProcess.js';
import { startService, type Service } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/**
 * The admin API with DATABASE_URL: two replicas on one database share the short codes and the
 * audit, and the admin writes take the identity's lock as every other writer does.
 */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

let kratos: KratosStandIn;
let persona: PersonaStandIn;
const replicas: Service[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  await Promise.all([kratos.close(), persona.close()]);
});

const env = () => ({
  ...baseEnv(kratos, persona.apiBase),
  ...ADMIN_ENV,
  DATABASE_URL: database.url,
  LOG_LEVEL: 'silent',
});

/** Two replicas of the service sharing one database, one Kratos and one Persona. */
async function twoReplicas(): Promise<[Service, Service]> {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
  for (let index = 0; index < 2; index += 1) replicas.push(await startService(env()));
  return replicas as [Service, Service];
}

const enter = (replica: Service, code: string) =>
  request(replica.app).post('/persona/start/code').set('Content-Type', 'application/json').send({ code });
/** A short code for the identity, issued by an agent on `replica`. */
const issueCode = async (replica: Service, identityId: string) => {
  const issued = await adminClient(replica.app).post(`/admin/identities/${identityId}/verification-links`, {
    actor: 'agent-7',
    kind: 'short_code',
  });
  expect(issued.status).toBe(200);
  return (issued.body as { code: string }).code;
};
const wrongSecret = (code: string) => `${code.slice(0, -1)}${code.endsWith('Z') ? 'Y' : 'Z'}`;

describe('the admin API with DATABASE_URL', () => {
  it('redeems on one replica a short code issued on another, once', async () => {
    const [a, b] = await twoReplicas();
    const { id } = kratos.createIdentity();
    const code = await issueCode(a, id);
    const redeemed = await enter(b, code);
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.verify_url).toContain(`/persona/start?token=${id}.`);
    expect((await enter(a, code)).status).toBe(400);
    const stored = await database.query(
      'SELECT count(*)::int AS codes FROM persona_idv.short_codes WHERE identity_id = $1',
      [id],
    );
    expect(stored.rows[0]).toEqual({ codes: 0 });
  });

  it('accepts a code typed on two replicas at the same instant once', async () => {
    const [a, b] = await twoReplicas();
    const { id } = kratos.createIdentity();
    const code = await issueCode(a, id);
    const answers = await Promise.all([enter(a, code), enter(b, code), enter(a, code), enter(b, code)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400, 400, 400]);
  });

  it('keeps one code per identity when two agents issue one on two replicas at once', async () => {
    const [a, b] = await twoReplicas();
    const { id } = kratos.createIdentity();
    await Promise.all([a, b, a, b].map((replica) => issueCode(replica, id)));
    const live = await database.query(
      'SELECT count(*)::int AS codes FROM persona_idv.short_codes WHERE identity_id = $1',
      [id],
    );
    expect(live.rows[0]).toEqual({ codes: 1 });
  });

  it('requires a cohort over two pages on one replica, which the other reads, and goes on from any replica', async () => {
    const [a, b] = await twoReplicas();
    const employees = [1, 2, 3].map(() => kratos.createIdentity({ schema_id: 'employee' }).id);
    kratos.createIdentity({ schema_id: 'customer' });
    const body = { actor: 'ops-1', reason: 'incident', schema_id: 'employee', page_size: 2 };
    const dryRun = await adminClient(a.app).post('/admin/reverification', { ...body, dry_run: true });
    expect(dryRun.body).toMatchObject({ pages: 2, matched: 3, changed: 0, done: true });
    const run = await adminClient(a.app).post('/admin/reverification', body);
    expect(run.body).toMatchObject({ pages: 2, matched: 3, changed: 3, done: true });
    for (const id of employees) {
      const seen = await adminClient(b.app).get(`/admin/identities/${id}/verification?actor=agent-7`);
      expect(seen.body).toMatchObject({
        reverification: { required: true, because: 'operator' },
        login: { allowed: false, message_id: 4100003 },
      });
    }
    // The same run sent again to the other replica (a resumed cohort) changes nothing twice.
    const again = await adminClient(b.app).post('/admin/reverification', {
      ...body,
      required_at: run.body.required_at,
    });
    expect(again.body).toMatchObject({ matched: 3, changed: 0, unchanged: 3 });
    const rows = await database.query(
      "SELECT count(*)::int AS rows FROM persona_idv.audit_log WHERE action = 'reverification.require'",
    );
    expect(rows.rows[0]).toEqual({ rows: 3 });
  });

  it("counts a code's wrong tries across replicas, and keeps only a digest of its secret", async () => {
    const [a, b] = await twoReplicas();
    const { id } = kratos.createIdentity();
    const code = await issueCode(a, id);
    const row = await database.query(
      'SELECT handle, secret_digest, attempts_left FROM persona_idv.short_codes WHERE identity_id = $1',
      [id],
    );
    expect(row.rows[0]?.['handle']).toBe(code.replace('-', '').slice(0, 4));
    expect(String(row.rows[0]?.['secret_digest'])).not.toContain(code.replace('-', '').slice(4));
    for (const replica of [a, b, a, b, a]) expect((await enter(replica, wrongSecret(code))).status).toBe(400);
    expect((await enter(b, code)).status).toBe(400);
  });

  it('keeps the audit in audit_log, listed by any replica, newest first, by identity', async () => {
    const [a, b] = await twoReplicas();
    const [first, second] = [kratos.createIdentity().id, kratos.createIdentity().id];
    const adminA = adminClient(a.app);
    await adminA.get(`/admin/identities/${first}/verification?actor=agent-7`);
    await adminA.post(`/admin/identities/${first}/reverification`, { actor: 'agent-8', reason: 'role_change' });
    await adminA.post('/admin/reverification', {
      actor: 'ops-1',
      reason: 'incident',
      identity_ids: [second],
      dry_run: true,
    });
    const adminB: AdminClient = adminClient(b.app);
    const ofFirst = await adminB.get(`/admin/audit?identity_id=${first}`);
    expect(ofFirst.status).toBe(200);
    expect(ofFirst.body.entries).toEqual([
      expect.objectContaining({
        actor: 'agent-8',
        action: 'reverification.require',
        identity_id: first,
        outcome: 'ok',
        details: { reason: 'role_change', block_login: true },
      }),
      expect.objectContaining({ actor: 'agent-7', action: 'verification.read', identity_id: first, outcome: 'ok' }),
    ]);
    const all = await adminB.get('/admin/audit?limit=1');
    expect(all.body.entries).toEqual([
      expect.objectContaining({
        action: 'reverification.cohort',
        identity_id: null,
        cohort_size: 1,
        outcome: 'dry_run',
      }),
    ]);
  });

  it("waits for an identity's lock like every writer, and answers 503 when another holds it too long", async () => {
    const [a] = await twoReplicas();
    const { id } = kratos.createIdentity();
    const holder = await database.connect();
    const [namespace, key] = identityKey(id);
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [namespace, key]);
    const blocked = await adminClient(a.app).post(`/admin/identities/${id}/reverification`, {
      actor: 'agent-7',
      reason: 'role_change',
    });
    expect(blocked.status).toBe(503);
    expect(blocked.body.error.code).toBe('temporarily_unavailable');
    expect(kratos.patchesOf(id)).toEqual([]);
    await holder.query('ROLLBACK');
    const audited = await adminClient(a.app).get(`/admin/audit?identity_id=${id}`);
    expect(audited.body.entries).toEqual([expect.objectContaining({ outcome: 'temporarily_unavailable' })]);
    const done = await adminClient(a.app).post(`/admin/identities/${id}/reverification`, {
      actor: 'agent-7',
      reason: 'role_change',
    });
    expect(done.status).toBe(200);
  });

  it('keeps in audit_log an action that failed, under the id in lower case however it was typed', async () => {
    const [a, b] = await twoReplicas();
    const { id } = kratos.createIdentity();
    kratos.inject({ method: 'PATCH', path: `/admin/identities/${id}`, status: 500, times: 10 });
    const failed = await adminClient(a.app).post(`/admin/identities/${id.toUpperCase()}/reverification`, {
      actor: 'agent-7',
      reason: 'incident-42',
    });
    expect(failed.body.error.code).toBe('temporarily_unavailable');
    const listed = await adminClient(b.app).get(`/admin/audit?identity_id=${id.toUpperCase()}`);
    expect(listed.body.entries).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'reverification.require',
        identity_id: id,
        outcome: 'outcome_unknown',
      }),
    ]);
  });

  it('lets the command line issue a short code the service redeems, audit it, and write without a warning', async () => {
    const [a] = await twoReplicas();
    const { id } = kratos.createIdentity();
    const link = await runCommandProcess('admin', ['link', id, '--actor', 'agent-7', '--code', '--json'], env());
    expect(link.code).toBe(0);
    const { code } = JSON.parse(link.stdout) as { code: string };
    expect((await enter(a, code)).status).toBe(200);

    const reverify = await runCommandProcess(
      'admin',
      ['reverify', id, '--actor', 'agent-7', '--reason', 'incident'],
      env(),
    );
    expect(reverify.code).toBe(0);
    expect(reverify.stderr).not.toContain('single-instance');

    const audit = await runCommandProcess('admin', ['audit', '--identity-id', id, '--json'], env());
    expect(audit.code).toBe(0);
    expect(
      (JSON.parse(audit.stdout) as { entries: { action: string }[] }).entries.map((entry) => entry.action),
    ).toEqual(['reverification.require', 'short_code.redeem', 'short_code.issue']);
  });

  it('redacts on one replica, keeps the decline, and audits it in audit_log for every replica', async () => {
    const [a, b] = await twoReplicas();
    const id = randomUUID();
    const inquiry = persona.addInquiry({
      referenceId: id,
      status: 'declined',
      note: 'Opened by ory-persona-idv (purpose: onboarding)',
      fields: { 'name-last': 'Okonkwo' },
    });
    const at = new Date(Date.now() - 60_000).toISOString();
    kratos.createIdentity({
      id,
      metadata_admin: {
        persona: {
          inquiry_id: inquiry.id,
          status: 'declined',
          template_id: TEMPLATE_ID,
          created_at: at,
          updated_at: at,
          decided_at: at,
          last_event_id: null,
          history: [],
        },
      },
    });

    const refused = await adminClient(b.app).post(`/admin/identities/${id}/redaction`, {
      actor: 'agent-7',
      forget_decision: true,
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'decline_kept']);
    const done = await adminClient(a.app).post(`/admin/identities/${id}/redaction`, { actor: 'agent-7' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ redacted_with_account: [inquiry.id], record_updated: true });
    expect(persona.inquiry(inquiry.id)).toMatchObject({
      fields: { 'name-last': null },
      redactedAt: expect.any(String),
    });
    expect(kratos.identity(id)?.metadata_admin?.['persona']).toMatchObject({
      decision: { outcome: 'declined' },
      redaction: { inquiries: [{ inquiry_id: inquiry.id }] },
    });

    const audit = await adminClient(b.app).get(`/admin/audit?identity_id=${id}`);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'persona.redact',
        outcome: 'ok',
        details: expect.objectContaining({ trigger: 'request', inquiry_ids: inquiry.id, decision_forgotten: false }),
      }),
      expect.objectContaining({ action: 'persona.redact', outcome: 'refused' }),
    ]);
  });

  it('runs the redaction sweep from the command line only while no replica leads it', async () => {
    kratos = await startKratosStandIn();
    persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
    replicas.push(await startService(env()));
    const holder = await database.connect();
    try {
      const [namespace, key] = leadershipKey('persona_idv', REDACTION_SWEEP_LEAD);
      await holder.query('SELECT pg_advisory_lock($1, $2)', [namespace, key]);
      const refused = await runCommandProcess('admin', ['redaction-sweep'], env());
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('another replica is running the redaction sweeps');
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [namespace, key]);
      const run = await runCommandProcess('admin', ['redaction-sweep', '--json'], env());
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ deleted: { complete: true } });
    } finally {
      await holder.end();
    }
  });
});
