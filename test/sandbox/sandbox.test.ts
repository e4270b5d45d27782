import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/serverProcess.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const post = async (url: string, body?: unknown) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, any>;
};

describe('npm run sandbox', () => {
  it('keeps the servers running for curl: register, decide, log in; stops on SIGTERM', async () => {
    const [service, kratos, kratosPublic, persona] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/sandbox.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        SANDBOX_SERVICE_PORT: String(service),
        SANDBOX_KRATOS_PORT: String(kratos),
        SANDBOX_KRATOS_PUBLIC_PORT: String(kratosPublic),
        SANDBOX_PERSONA_PORT: String(persona),
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (let wait = 0; wait < 200 && !output.includes('Try it:'); wait += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain(`service           http://127.0.0.1:${service}`);

    const registered = await post(`http://127.0.0.1:${kratos}/sandbox/registrations`, {
      traits: { email: 'ann@example.com' },
    });
    expect(registered['hook']).toMatchObject({ status: 200, response: { status: 'created' } });
    const inquiryId = registered['hook'].response.inquiry_id as string;

    const start = await fetch(`http://127.0.0.1:${service}/persona/start`, {
      headers: { 'X-Session-Token': registered['session_token'] as string },
      redirect: 'manual',
    });
    expect(start.headers.get('location')).toContain(`http://127.0.0.1:${persona}/verify?inquiry-id=${inquiryId}`);

    expect(await post(`http://127.0.0.1:${persona}/sandbox/inquiries/${inquiryId}/decline`)).toEqual({
      inquiry: { id: inquiryId, status: 'declined' },
    });
    let login: Record<string, any> = {};
    for (let attempt = 0; attempt < 50 && login['session_token'] !== null; attempt += 1) {
      login = await post(`http://127.0.0.1:${kratos}/sandbox/logins`, { identity_id: registered['identity_id'] });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(login['hook'].kratos).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(output).toMatch(/webhook inquiry\.declined evt_\w+: attempt 1 answered 200 \(delivered\)/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
