import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RequestListener } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { demoCommand } from '../../sandbox/demo.js';
import { SANDBOX, type SandboxEnvironment } from '../../sandbox/environment.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Puts a failure in front of one route of the service, as a broken deployment would. */
const breaking = (path: string, status: number) => (app: RequestListener) => {
  const front = express();
  front.use(path, (_req, res) => {
    res.status(status).json({ error: 'broken on purpose' });
  });
  front.use(app);
  return front;
};

describe('npm run demo', () => {
  it('walks through the whole flow and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile('npm', ['run', '--silent', 'demo'], { cwd: ROOT, timeout: 60_000 }, (error, out) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toContain('1. Jane registers: Kratos calls POST /persona/initiate');
    expect(stdout).toMatch(/Persona -> service: webhook inquiry\.approved \(evt_\w+\) <- 200/);
    expect(stdout).toContain('Kratos shows on the login form: [4100001] Your identity verification was declined.');
    expect(stdout).toContain(
      'Kratos shows on the settings form: [4100006] Please verify your identity again to make this change.',
    );
    expect(stdout).toMatch(/GET \/persona\/recover\/return <- 200 \{"status":"code_issued"/);
    expect(stdout).toContain('All 14 steps behaved as expected.');
  }, 60_000);

  it('walks through the whole flow in this process too, where the conformance check sees every exchange', async () => {
    const out: string[] = [];
    expect(await demoCommand({ write: (line) => out.push(line), writeError: (line) => out.push(line) })).toBe(0);
    expect(out.join('\n')).toContain('All 14 steps behaved as expected.');
  });

  it('goes on through /persona/start when Persona answers a registration too late, and says so', async () => {
    // Longer than initiate gives Persona, then a failure: the hook records not_started.
    const slowCreate = { method: 'POST', path: '/api/v1/inquiries', delayMs: 1_500, status: 503, times: 1 };
    let sandbox: SandboxEnvironment | undefined;
    const out: string[] = [];
    const code = await demoCommand({
      write: (line) => {
        // John's registration too, once Jane's inquiries exist.
        if (line.startsWith('\n5. John registers')) sandbox?.persona.inject(slowCreate);
        out.push(line);
      },
      writeError: (line) => out.push(line),
      prepare: (started) => {
        sandbox = started;
        started.persona.inject(slowCreate);
      },
    });
    const text = out.join('\n');
    expect(code, text).toBe(0);
    expect(text.match(/the record says not_started/g)).toHaveLength(2);
    expect(text).toContain('All 14 steps behaved as expected.');
    // Each of them has the one inquiry /persona/start created, and it was decided.
    const onboarding = sandbox?.persona
      .inquiries()
      .filter((inquiry) => inquiry.templateId === SANDBOX.templateId)
      .map((inquiry) => inquiry.status);
    expect(onboarding?.sort()).toEqual(['approved', 'declined']);
  }, 30_000);

  // Persona's first webhook (inquiry.created) follows the registration, so a broken callback
  // shows at step 1 already.
  it.each([
    [
      '/persona/callback',
      500,
      '1. Jane registers: Kratos calls POST /persona/initiate',
      'not accepted by POST /persona/callback',
    ],
    ['/persona/validate', 500, '4. Jane logs in: Kratos calls POST /persona/validate', 'did not let Jane in (500)'],
    ['/persona/initiate', 502, '1. Jane registers: Kratos calls POST /persona/initiate', 'initiate answered 502'],
    ['/persona/start', 500, '2. Jane is sent to Persona: GET /persona/start', 'start answered 500'],
    [
      '/persona/settings',
      500,
      '8. Jane changes her password: Kratos calls POST /persona/settings before saving; her approval is fresh',
      'the settings gate did not let the change through (500)',
    ],
    [
      '/persona/recover',
      500,
      '12. Jane lost every factor: POST /persona/recover with her email sends her to Persona',
      'recovery did not start',
    ],
  ])('exits 1 naming the step when %s answers %d', async (path, status, step, reason) => {
    const out: string[] = [];
    const errors: string[] = [];
    const code = await demoCommand({
      write: (line) => out.push(line),
      writeError: (line) => errors.push(line),
      sandbox: { wrapService: breaking(path, status) },
    });
    expect(code).toBe(1);
    expect(errors.join('\n')).toContain(`Demo failed at step ${step}:`);
    expect(errors.join('\n')).toContain(reason);
    expect(out.join('\n')).not.toContain('behaved as expected');
  });
});
