import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_COMMANDS } from '../../src/admin/cli/commands.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { runCommandProcess } from '../support/serverProcess.js';

let kratos: KratosStandIn | undefined;
let persona: PersonaStandIn | undefined;
afterEach(async () => {
  await Promise.all([kratos?.close(), persona?.close()]);
  kratos = persona = undefined;
});

/** `npm run admin -- <args>` as the image runs it, with exactly `env` (and no .env file). */
const admin = (args: string[], env: Record<string, string> = {}) =>
  runCommandProcess('admin', args, { LOG_LEVEL: 'silent', ...env });

async function standIns() {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: 'persona_sandbox_admin_cli', templateIds: ['itmpl_AdminCli'] });
  return {
    ORY_WEBHOOK_SECRET: 'admin-cli-hook-secret-0123456789',
    KRATOS_ADMIN_URL: kratos.adminUrl,
    PERSONA_API_KEY: 'persona_sandbox_admin_cli',
    PERSONA_API_BASE: persona.apiBase,
    PERSONA_TEMPLATE_ID: 'itmpl_AdminCli',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_admin_cli_0123456789abcdef',
    ADMIN_API_TOKEN: 'admin-cli-token-abcdef0123456789',
    PUBLIC_BASE_URL: 'https://idv.example.com',
  };
}

const at = (minute: number) => new Date(Date.UTC(2026, 4, 1, 10, minute)).toISOString();

/** A record as 0.1.0 wrote it: the decline of the first inquiry moved into history by a second. */
const hiddenDecline = () => ({
  persona: {
    inquiry_id: 'inq_second',
    status: 'created',
    template_id: 'itmpl_AdminCli',
    created_at: at(10),
    updated_at: at(10),
    decided_at: null,
    last_event_id: null,
    history: [{ inquiry_id: 'inq_first', status: 'declined', decided_at: at(5) }],
  },
});

describe('npm run admin', () => {
  it('lists its commands for --help, and names an unknown or missing command', async () => {
    const help = await admin(['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(ADMIN_COMMANDS)) expect(help.stdout).toContain(`  ${name}`);
    const unknown = await admin(['redact-everything']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^admin: unknown command redact-everything\nusage: admin <command>/);
    expect((await admin([])).code).toBe(2);
  });

  it.each(Object.keys(ADMIN_COMMANDS))(
    '%s --help prints its usage and exits 0, without configuration',
    async (name) => {
      const result = await admin([name, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: admin ${name}\\b`));
      expect(result.stderr).toBe('');
    },
  );

  it.each([
    [['verification', '--actor', 'a'], 'admin verification: an identity id is needed'],
    [
      ['verification', 'not-a-uuid', '--actor', 'a'],
      'admin verification: identity id: must be a Kratos identity id (a UUID)',
    ],
    [['verification', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34'], 'admin verification: --actor: '],
    [
      ['link', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', '--actor', 'a', '--expires-in', '9d'],
      'admin link: --expires-in: must be between 5m and 72h for a link',
    ],
    [['reverify', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', '--actor', 'a'], 'admin reverify: --reason: '],
    [
      ['reverify-cohort', '--actor', 'a', '--reason', 'r'],
      'admin reverify-cohort: give exactly one of identity_ids, schema_id, verified_before',
    ],
    [['reverify-cohort', '--ids', 'x', '--actor', 'a', '--reason', 'r'], 'admin reverify-cohort: --ids: '],
    [
      ['upgrade-records', '--actor', 'a', '--page-size', '0'],
      'admin upgrade-records: --page-size: must be between 1 and 500',
    ],
    [['upgrade-records', '--actor', 'a', '--everything'], 'admin upgrade-records: unknown option --everything'],
    [['openapi', 'extra'], 'admin openapi: unexpected argument extra'],
    [['redact', '--actor', 'a'], 'admin redact: an identity id is needed'],
    [['redact', 'not-a-uuid', '--actor', 'a'], 'admin redact: identity id: must be a Kratos identity id (a UUID)'],
    [['redact', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34'], 'admin redact: --actor: '],
    [
      ['redact', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', '--actor', 'a', '--forget-all'],
      'admin redact: unknown option --forget-all',
    ],
    [['redaction-sweep', 'now'], 'admin redaction-sweep: unexpected argument now'],
  ])('names what is wrong with %j and exits 2', async (args, message) => {
    const result = await admin(args);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr).toContain(`\nusage: admin ${args[0]}`);
    expect(result.stdout).toBe('');
  });

  it("verification prints an identity's verification, and --json the admin API's answer", async () => {
    const env = await standIns();
    const { id } = (kratos as KratosStandIn).createIdentity({ metadata_admin: hiddenDecline() });
    const text = await admin(['verification', id, '--actor', 'agent-7'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`identity ${id} (active)\n`);
    expect(text.stdout).toContain('decision: declined (inq_first, ');
    expect(text.stdout).toContain('(written by 0.1.0: upgrade-records rewrites it)');
    expect(text.stdout).toContain('login: blocked with 4100001 (declined)');
    const json = await admin(['verification', id, '--actor', 'agent-7', '--json'], { ...env, LOG_LEVEL: 'info' });
    expect(JSON.parse(json.stdout)).toMatchObject({ identity_id: id, decision: { outcome: 'declined' } });
    // The audit line goes to stderr, so that stdout is the answer alone.
    expect(json.stderr).toContain('"msg":"admin action"');
    expect(json.stderr).toContain('"actor":"agent-7"');
  });

  it('link prints a signed link; a short code needs DATABASE_URL from the command line', async () => {
    const env = await standIns();
    const { id } = (kratos as KratosStandIn).createIdentity();
    const link = await admin(['link', id, '--actor', 'agent-7', '--expires-in', '2h'], env);
    expect(link.code).toBe(0);
    expect(link.stdout).toMatch(
      new RegExp(
        `^link for ${id} \\(verification\\), valid until .*:\\nhttps://idv\\.example\\.com/persona/start\\?token=${id}\\.`,
      ),
    );
    const code = await admin(['link', id, '--actor', 'agent-7', '--code'], env);
    expect(code.code).toBe(1);
    expect(code.stderr).toContain('short codes from the command line need DATABASE_URL');
  });

  it('reverify requires the identity to verify again, and says it writes beside the service', async () => {
    const env = await standIns();
    const { id } = (kratos as KratosStandIn).createIdentity();
    const result = await admin(['reverify', id, '--actor', 'agent-7', '--reason', 'role_change', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      identity_id: id,
      reverification: { reason: 'role_change', block_login: true },
    });
    expect(result.stderr).toContain('admin reverify: single-instance mode (no DATABASE_URL)');
    expect((kratos as KratosStandIn).identity(id)?.metadata_public?.['persona']).toMatchObject({
      reverification_required: true,
    });
    const unknown = await admin(
      ['reverify', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', '--actor', 'a', '--reason', 'r'],
      env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('admin reverify: unknown_identity: Kratos has no identity with this id.');
  });

  it('reverify-cohort counts first, then requires, with progress on stderr', async () => {
    const env = await standIns();
    const ids = [1, 2, 3].map(() => (kratos as KratosStandIn).createIdentity({ schema_id: 'employee' }).id);
    const dryRun = await admin(
      [
        'reverify-cohort',
        '--schema-id',
        'employee',
        '--actor',
        'a',
        '--reason',
        'incident',
        '--dry-run',
        '--page-size',
        '2',
      ],
      env,
    );
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toBe('dry run: 3 identities would be required to verify again (listed 3)\n');
    expect(dryRun.stderr).toContain(
      'admin reverify-cohort: page 2 read; so far listed 3, matched 3, changed 0, failed 0',
    );
    const run = await admin(
      ['reverify-cohort', '--schema-id', 'employee', '--actor', 'a', '--reason', 'incident'],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('required 3 identities to verify again; 0 unchanged, 0 failed (matched 3 of 3 listed)\n');
    for (const id of ids) {
      expect((kratos as KratosStandIn).identity(id)?.metadata_admin?.['persona']).toMatchObject({
        reverification: { reason: 'incident' },
      });
    }
  });

  it('upgrade-records rewrites what 0.1.0 wrote, so that a hidden decline revokes the sessions now', async () => {
    const env = await standIns();
    const stand = kratos as KratosStandIn;
    const declined = stand.createIdentity({ metadata_admin: hiddenDecline() }).id;
    const session = stand.createSession(declined);
    const unreadable = stand.createIdentity({ metadata_admin: { persona: { version: 9 } } }).id;
    const untouched = [stand.createIdentity().id, stand.createIdentity({ metadata_admin: { crm: 'c-1' } }).id];

    const dryRun = await admin(['upgrade-records', '--actor', 'ops', '--dry-run', '--page-size', '2'], env);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('dry run: 1 records would be rewritten (listed 4 identities)');
    expect(dryRun.stdout).toContain(`1 records cannot be interpreted; fix or remove them: ${unreadable}`);
    expect(dryRun.stderr).toContain('admin upgrade-records: page 2 read; so far listed 4, outdated 1');
    expect(stand.patchesOf(declined)).toEqual([]);

    const run = await admin(['upgrade-records', '--actor', 'ops', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      dry_run: false,
      listed: 4,
      outdated: 1,
      upgraded: 1,
      unreadable: 1,
      failed: 0,
      next: null,
    });
    expect(stand.identity(declined)?.metadata_admin?.['persona']).toMatchObject({
      version: 2,
      decision: { outcome: 'declined', inquiry_id: 'inq_first' },
      actions: { pending: [], sessions_revoked_at: expect.any(String) },
    });
    expect(stand.identity(declined)?.metadata_public?.['persona']).toMatchObject({ status: 'declined' });
    const whoami = await fetch(`${stand.public.url}/sessions/whoami`, {
      headers: { 'X-Session-Token': session.token },
    });
    expect(whoami.status).toBe(401);
    for (const id of [...untouched, unreadable]) expect(stand.patchesOf(id)).toEqual([]);

    const again = await admin(['upgrade-records', '--actor', 'ops', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ outdated: 0, upgraded: 0 });
  });

  it("redact lists by id on a dry run, then redacts the stand-in's data and notes it; a decline is never forgotten", async () => {
    const env = await standIns();
    const stand = kratos as KratosStandIn;
    const personaStandIn = persona as PersonaStandIn;
    const id = randomUUID();
    const inquiry = personaStandIn.addInquiry({
      referenceId: id,
      templateId: 'itmpl_AdminCli',
      status: 'declined',
      note: 'Opened by ory-persona-idv (purpose: onboarding)',
      fields: { 'name-last': 'Okonkwo' },
    });
    stand.createIdentity({
      id,
      metadata_admin: {
        persona: { ...hiddenDecline().persona, inquiry_id: inquiry.id, status: 'declined', history: [] },
      },
    });

    const dryRun = await admin(['redact', id, '--actor', 'agent-7', '--dry-run'], env);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`dry run: would redact the Persona data of ${id}\n`);
    expect(dryRun.stdout).toContain(`inquiries with the account: ${inquiry.id}\n`);
    expect(personaStandIn.inquiry(inquiry.id)?.redactedAt).toBeNull();
    expect(stand.patchesOf(id)).toEqual([]);

    const forget = await admin(['redact', id, '--actor', 'agent-7', '--forget'], env);
    expect(forget.code).toBe(1);
    expect(forget.stderr).toContain('admin redact: decline_kept: ');
    expect(personaStandIn.inquiry(inquiry.id)?.redactedAt).toBeNull();

    const run = await admin(['redact', id, '--actor', 'agent-7', '--json'], { ...env, LOG_LEVEL: 'info' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      identity_id: id,
      redacted_with_account: [inquiry.id],
      record_updated: true,
      decision_forgotten: false,
    });
    expect(run.stderr).toContain('"action":"persona.redact"');
    expect(run.stderr).not.toContain('Okonkwo');
    expect(personaStandIn.inquiry(inquiry.id)).toMatchObject({ fields: { 'name-last': null } });
    expect(personaStandIn.inquiry(inquiry.id)?.redactedAt).toEqual(expect.any(String));
    expect(stand.identity(id)?.metadata_admin?.['persona']).toMatchObject({
      decision: { outcome: 'declined', inquiry_id: inquiry.id },
      redaction: { account_redacted_at: expect.any(String), inquiries: [{ inquiry_id: inquiry.id }] },
    });
    expect(stand.identity(id)?.metadata_public?.['persona']).toMatchObject({ status: 'declined' });
  });

  it('redaction-sweep finds a deleted identity and waits out the grace period; without a database it redacts none', async () => {
    const env = await standIns();
    const personaStandIn = persona as PersonaStandIn;
    const gone = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34';
    const inquiry = personaStandIn.addInquiry({
      referenceId: gone,
      templateId: 'itmpl_AdminCli',
      status: 'approved',
      note: 'Opened by ory-persona-idv (purpose: onboarding)',
    });
    // Another identity exists, so the run is not stopped as if Kratos were the wrong one.
    const living = (kratos as KratosStandIn).createIdentity().id;
    personaStandIn.addInquiry({
      referenceId: living,
      templateId: 'itmpl_AdminCli',
      status: 'approved',
      note: 'Opened by ory-persona-idv (purpose: onboarding)',
    });
    const result = await admin(['redaction-sweep', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      dry_run: false,
      deleted: { checked: 2, existing: 1, missing: 1, waiting: 1, redacted: 0, complete: true },
    });
    expect(personaStandIn.inquiry(inquiry.id)?.redactedAt).toBeNull();
    expect(result.stderr).toContain('admin redaction-sweep: single-instance mode (no DATABASE_URL)');
  });

  it('audit says that without DATABASE_URL the audit is the log', async () => {
    const env = await standIns();
    const result = await admin(['audit'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('without DATABASE_URL the audit is the log only');
  });

  it('openapi prints the OpenAPI document', async () => {
    const result = await admin(['openapi']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ openapi: '3.1.0', info: { title: 'ory-persona-idv admin API' } });
  });

  it('says which configuration is wrong, by name, and exits 1', async () => {
    const result = await admin(['verification', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', '--actor', 'a'], {
      ORY_WEBHOOK_SECRET: 'short',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ORY_WEBHOOK_SECRET: ');
    expect(result.stderr).not.toContain('short,');
  });
});
