import { serviceNote } from '../../src/persona/inquiry.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { runCommandProcess } from '../support/serverProcess.js';

let kratos: KratosStandIn;
let persona: PersonaStandIn;
const running: { close(): Promise<void> }[] = [];
afterEach(() => Promise.all(running.splice(0).map((server) => server.close())));

const reconcileCommand = (args: string[], env: Record<string, string>) =>
  runCommandProcess('reconcile', args, { LOG_LEVEL: 'silent', ...env });

/** The stand-ins, and the service's configuration pointing at them. */
async function startStandIns() {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: 'persona_sandbox_cli', templateIds: ['itmpl_Cli'] });
  running.push(kratos, persona);
  return {
    ORY_WEBHOOK_SECRET: 'reconcile-cli-secret-0123456789',
    KRATOS_ADMIN_URL: kratos.url,
    PERSONA_API_KEY: 'persona_sandbox_cli',
    PERSONA_API_BASE: persona.apiBase,
    PERSONA_TEMPLATE_ID: 'itmpl_Cli',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_cli_0123456789abcdef',
  };
}

describe('npm run reconcile', () => {
  it('applies the current state of the window and prints the counts', async () => {
    const env = await startStandIns();
    const identity = kratos.createIdentity();
    persona.addInquiry({
      referenceId: identity.id,
      status: 'approved',
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
      note: serviceNote('onboarding'),
    });
    persona.addInquiry({
      referenceId: identity.id,
      status: 'created',
      createdAt: new Date(Date.now() - 72 * 3_600_000).toISOString(),
      note: serviceNote('onboarding'),
    });
    const result = await reconcileCommand(['--since', '48h'], env);

    expect(result.stdout).toMatch(/checked 1, changed 1, unchanged 0, failed 0\n$/);
    expect(result.stderr).toContain('reconcile: itmpl_Cli: page 1 read; so far checked 1, changed 1, failed 0\n');
    expect(result.code).toBe(0);
    expect(kratos.identity(identity.id)?.metadata_admin?.['persona']).toMatchObject({ status: 'approved' });
    expect(persona.requests[0]?.query.get('filter[created-at-start]')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("reports each page and each wait for Persona's rate limit on stderr, the summary on stdout", async () => {
    const env = await startStandIns();
    // Two pages of 100, for inquiries no identity is behind (another app's, say).
    for (let index = 0; index < 150; index += 1) persona.addInquiry({ referenceId: null, status: 'approved' });
    persona.inject({ method: 'GET', path: '/api/v1/inquiries', status: 429, headers: { 'RateLimit-Reset': '1' } });

    const result = await reconcileCommand([], env);

    const lines = result.stderr.split('\n');
    // Without DATABASE_URL it first says it is a second writer (test/coordination/reconcile.test.ts).
    expect(lines[0]).toMatch(/^reconcile: no DATABASE_URL, so this command is a second writer/);
    expect(lines[1]).toMatch(/^reconcile: reading the inquiries created since /);
    expect(lines.slice(2, -1)).toEqual([
      "reconcile: Persona's rate limit is reached, which resets in 1 s: waiting before listInquiries is tried again",
      'reconcile: itmpl_Cli: page 1 read; so far checked 100, changed 0, failed 0',
      'reconcile: itmpl_Cli: page 2 read; so far checked 150, changed 0, failed 0',
    ]);
    expect(result.stdout).toMatch(
      /^reconciled inquiries created since .*: checked 150, changed 0, unchanged 150, failed 0\n$/,
    );
    expect(result.code).toBe(0);
  });

  it('prints its usage on stdout for --help and exits 0, without any configuration', async () => {
    const result = await reconcileCommand(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: reconcile \[--since <duration>\]\n/);
    expect(result.stdout).toContain('Exit status:');
    expect(result.stderr).toBe('');
  });

  it.each([
    [['--since', 'two days'], 'reconcile: --since: "two days" is not a duration such as 48h, 7d or 1h30m'],
    [
      ['--since', '14800000w'],
      'reconcile: --since: at most 3650d; a longer window reaches before any inquiry and past what a date holds',
    ],
    [['--since'], 'reconcile: --since needs a value'],
    [['--window', '7d'], 'reconcile: unknown option --window'],
    [['7d'], 'reconcile: unexpected argument 7d'],
  ])('names what is wrong with %j and exits 2', async (args, message) => {
    const result = await reconcileCommand(args, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${message}\nusage: reconcile [--since <duration>]\nRun it with --help for more.\n`);
    expect(result.stdout).toBe('');
  });
});
