import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let kratos: KratosStandIn;
let persona: PersonaStandIn;
afterEach(() => Promise.all([kratos.close(), persona.close()]));

function reconcileCommand(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/reconcile.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', DOTENV_PATH: '/nonexistent/.env', LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run reconcile', () => {
  it('applies the current state of the window and prints the counts', async () => {
    kratos = await startKratosStandIn();
    persona = await startPersonaStandIn({ apiKey: 'persona_sandbox_cli', templateIds: ['itmpl_Cli'] });
    const identity = kratos.createIdentity();
    persona.addInquiry({
      referenceId: identity.id,
      status: 'approved',
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
    persona.addInquiry({
      referenceId: identity.id,
      status: 'created',
      createdAt: new Date(Date.now() - 72 * 3_600_000).toISOString(),
    });
    const env = {
      ORY_WEBHOOK_SECRET: 'reconcile-cli-secret-0123456789',
      KRATOS_ADMIN_URL: kratos.url,
      PERSONA_API_KEY: 'persona_sandbox_cli',
      PERSONA_API_BASE: persona.apiBase,
      PERSONA_TEMPLATE_ID: 'itmpl_Cli',
      PERSONA_WEBHOOK_SECRET: 'wbhsec_cli_0123456789abcdef',
    };

    const result = await reconcileCommand(['--since', '48h'], env);

    expect(result.stdout).toMatch(/checked 1, changed 1, unchanged 0, failed 0\n$/);
    expect(result.code).toBe(0);
    expect(kratos.identity(identity.id)?.metadata_admin?.['persona']).toMatchObject({ status: 'approved' });
    expect(persona.requests[0]?.query.get('filter[created-at-start]')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('refuses a malformed window', async () => {
    kratos = await startKratosStandIn();
    persona = await startPersonaStandIn({ apiKey: 'k', templateIds: ['itmpl_Cli'] });
    const result = await reconcileCommand(['--since', 'two days'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: reconcile');
  });
});
