import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { SANDBOX_WIRED, passThrough, startSandbox } from '../../sandbox/environment.js';
import { startKratosStandIn } from '../../sandbox/kratosStandIn.js';
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

const until = async (condition: () => boolean) => {
  for (let wait = 0; wait < 200 && !condition(); wait += 1) await new Promise((r) => setTimeout(r, 50));
};

/** `npm run sandbox` on free ports, with `env` as the environment it is started in. */
async function runSandbox(env: Record<string, string> = {}) {
  const [service, kratos, kratosPublic, kratosUi, persona, app] = (await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  )) as [number, number, number, number, number, number];
  const child = spawn(process.execPath, ['--import', 'tsx', 'sandbox/sandbox.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      SANDBOX_SERVICE_PORT: String(service),
      SANDBOX_KRATOS_PORT: String(kratos),
      SANDBOX_KRATOS_PUBLIC_PORT: String(kratosPublic),
      SANDBOX_KRATOS_UI_PORT: String(kratosUi),
      SANDBOX_PERSONA_PORT: String(persona),
      SANDBOX_APP_PORT: String(app),
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await until(() => output.includes('Try it:') || child.exitCode !== null);
  const url = (port: number) => `http://127.0.0.1:${port}`;
  return {
    urls: { service: url(service), kratos: url(kratos), kratosUi: url(kratosUi), persona: url(persona), app: url(app) },
    output: () => output,
    until,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}

describe('npm run sandbox', () => {
  it('keeps the servers running for curl: register, decide, log in; stops on SIGTERM', async () => {
    const sandbox = await runSandbox();
    const { service, kratos, persona } = sandbox.urls;
    expect(sandbox.output()).toContain(`service           ${service}`);

    const registered = await post(`${kratos}/sandbox/registrations`, { traits: { email: 'ann@example.com' } });
    expect(registered['hook']).toMatchObject({ status: 200, response: { status: 'created' } });
    const inquiryId = registered['hook'].response.inquiry_id as string;

    const start = await fetch(`${service}/persona/start`, {
      headers: { 'X-Session-Token': registered['session_token'] as string },
      redirect: 'manual',
    });
    expect(start.headers.get('location')).toContain(`${persona}/verify?inquiry-id=${inquiryId}`);

    expect(await post(`${persona}/sandbox/inquiries/${inquiryId}/decline`)).toEqual({
      inquiry: { id: inquiryId, status: 'declined' },
    });
    let login: Record<string, any> = {};
    for (let attempt = 0; attempt < 50 && login['session_token'] !== null; attempt += 1) {
      login = await post(`${kratos}/sandbox/logins`, { identity_id: registered['identity_id'] });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(login['hook'].kratos).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(sandbox.output()).toMatch(/webhook inquiry\.declined evt_\w+: attempt 1 answered 200 \(delivered\)/);

    expect(await sandbox.stop()).toBe(0);
  }, 30_000);

  it("passes the service's variables through, and prints each next command with the real ids", async () => {
    const sandbox = await runSandbox({
      LOGIN_POLICY: 'require-approved',
      LOGIN_MESSAGE_VERIFICATION_REQUIRED: 'Verify first, please.',
      // Wired by the sandbox: ignored.
      PUBLIC_BASE_URL: 'https://idv.example.com',
    });
    const { service, kratos, persona } = sandbox.urls;
    expect(sandbox.output()).toContain(
      'Kratos hooks      as in ory-actions.require-approved.yaml (LOGIN_POLICY=require-approved)',
    );
    expect(sandbox.output()).toContain(
      'your settings     LOG_LEVEL, LOGIN_POLICY, LOGIN_MESSAGE_VERIFICATION_REQUIRED',
    );

    const registered = await post(`${kratos}/sandbox/registrations`, { traits: { email: 'bo@example.com' } });
    const identityId = registered['identity_id'] as string;
    expect(registered['session_token']).toBeNull();
    await sandbox.until(() => sandbox.output().includes(`/sandbox/inquiries/inq_`));
    const lines = () => sandbox.output().split('\n');
    // What the guide printed, pasted as it is (here through fetch).
    expect(lines()).toContain(
      `  curl -s -X POST ${kratos}/sandbox/logins -H 'Content-Type: application/json' -d '{"identity_id":"${identityId}"}'`,
    );
    const decide = lines().find((line) => line.startsWith(`  curl -s -X POST ${persona}/sandbox/inquiries/`));
    expect(decide).toMatch(new RegExp(`/sandbox/inquiries/inq_\\w+/approve$`));

    const login = await post(`${kratos}/sandbox/logins`, { identity_id: identityId });
    expect(login['hook'].kratos).toMatchObject({ kind: 'interrupt', id: 4100002, text: 'Verify first, please.' });
    await sandbox.until(() => sandbox.output().includes("| grep -i '^location'"));
    const verify = /curl -si '([^']+)' \| grep -i '\^location'/.exec(sandbox.output())?.[1] ?? '';
    expect(verify.startsWith(`${service}/persona/start?token=`)).toBe(true);
    const toPersona = await fetch(verify, { redirect: 'manual' });
    expect(toPersona.status).toBe(303);
    expect(toPersona.headers.get('location')).toContain(`${persona}/verify`);

    expect(await post((decide ?? '').split(' ').at(-1) ?? '')).toMatchObject({ inquiry: { status: 'approved' } });
    await sandbox.until(() => /webhook inquiry\.approved evt_\w+: attempt 1 answered 200/.test(sandbox.output()));
    expect((await post(`${kratos}/sandbox/logins`, { identity_id: identityId }))['session_token']).toMatch(/^ory_st_/);
    expect(await sandbox.stop()).toBe(0);
  }, 30_000);

  it('names a wrong variable and exits 1, leaving nothing running', async () => {
    const sandbox = await runSandbox({ LOGIN_POLICY: 'allow-everyone' });
    expect(await sandbox.exited).toBe(1);
    expect(sandbox.output()).toContain('LOGIN_POLICY: must be one of block-declined, require-approved');
  }, 30_000);

  // It exits by itself: a server left listening behind the error would keep the process alive.
  it('names the variable whose port is in use, without a stack trace, and exits 1 leaving nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const sandbox = await runSandbox({ SANDBOX_APP_PORT: String(port) });
      expect(await sandbox.exited).toBe(1);
      expect(sandbox.output()).toContain(
        `SANDBOX_APP_PORT: port ${port} is in use by another program; set SANDBOX_APP_PORT to a free port (0: any)`,
      );
      expect(sandbox.output()).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 30_000);

  it('names a port variable that holds no port', async () => {
    const sandbox = await runSandbox({ SANDBOX_KRATOS_PUBLIC_PORT: '44 33' });
    expect(await sandbox.exited).toBe(1);
    expect(sandbox.output()).toContain('SANDBOX_KRATOS_PUBLIC_PORT: must be a port number, 0 to 65535');
    expect(sandbox.output()).not.toMatch(/^\s+at /m);
  }, 30_000);
});

describe('the variables the sandbox passes through', () => {
  it('are those of the configuration schema, but the ones it wires', () => {
    expect(CONFIG_VARIABLES).toEqual(expect.arrayContaining([...SANDBOX_WIRED]));
    const passed = passThrough({
      LOGIN_POLICY: 'require-approved',
      ON_DECLINE: 'none',
      LOGIN_URL: 'https://auth.example.com/login',
      ALLOW_RETRIES: '',
      KRATOS_ADMIN_URL: 'http://kratos:4434',
      PERSONA_API_KEY: 'persona_production_real',
      PATH: '/usr/bin',
    });
    expect(passed).toEqual({
      LOGIN_POLICY: 'require-approved',
      ON_DECLINE: 'none',
      LOGIN_URL: 'https://auth.example.com/login',
    });
  });
});

describe('the sandbox with your own Kratos', () => {
  it('checks sessions at KRATOS_PUBLIC_URL and leaves the sign-in pages to your Kratos', async () => {
    // "Your" Kratos: a stand-in, its public API named localhost so that the address given is seen used.
    const yours = await startKratosStandIn();
    const port = new URL(yours.public.url).port;
    const sandbox = await startSandbox({
      kratosAdminUrl: yours.adminUrl,
      kratosPublicUrl: `http://localhost:${port}`,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      expect(sandbox.kratos).toBeUndefined();
      expect(sandbox.kratosUi).toBeUndefined();
      expect(sandbox.config.start.loginUrl).toBeUndefined();
      expect(sandbox.kratosPublicApi).toBe('ok');
      const identity = yours.createIdentity();
      const response = await fetch(`${sandbox.serviceUrl}/persona/status`, {
        headers: { 'X-Session-Token': yours.createSession(identity.id).token },
      });
      expect(response.status).toBe(200);
      const whoami = yours.public.requests.filter((request) => request.path === '/sessions/whoami');
      // The check at start, then the session's.
      expect(whoami.map((request) => request.headers.host)).toEqual([`localhost:${port}`, `localhost:${port}`]);
      expect(whoami[0]?.headers['x-session-token']).toBeUndefined();
    } finally {
      await Promise.all([sandbox.close(), yours.close()]);
    }
  });

  it.each([
    ['unset', undefined, /^KRATOS_PUBLIC_URL: is unset and defaults to KRATOS_ADMIN_URL\. KRATOS_PUBLIC_URL answers/],
    ['the admin port', 'admin', /^KRATOS_PUBLIC_URL: KRATOS_PUBLIC_URL answers Kratos's session check with a redirect/],
  ])(
    'refuses a KRATOS_PUBLIC_URL %s, which redirects session checks, and closes what it started',
    async (_case, given, problem) => {
      // Your Kratos's admin port answers /sessions/whoami with a redirect, as Kratos does.
      const yours = await startKratosStandIn();
      const [service, persona, app] = await Promise.all([freePort(), freePort(), freePort()]);
      try {
        const starting = startSandbox({
          kratosAdminUrl: yours.adminUrl,
          ...(given !== undefined && { kratosPublicUrl: yours.adminUrl }),
          ports: { service, persona, app },
        });
        const error = await starting.then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems).toEqual([expect.stringMatching(problem)]);
        expect(yours.requests.filter((r) => r.path === '/sessions/whoami').map((r) => r.status)).toEqual([307]);
        // Every port it had taken is free again.
        for (const port of [service, persona, app]) {
          const again = createServer();
          await new Promise<void>((resolve, reject) => {
            again.once('error', reject);
            again.listen(port, '127.0.0.1', resolve);
          });
          await new Promise((resolve) => again.close(resolve));
        }
      } finally {
        await yours.close();
      }
    },
  );

  it("starts with your Kratos's public API not answering yet, and says so", async () => {
    const yours = await startKratosStandIn();
    const sandbox = await startSandbox({
      kratosAdminUrl: yours.adminUrl,
      kratosPublicUrl: `http://127.0.0.1:${await freePort()}`,
    });
    try {
      expect(sandbox.kratosPublicApi).toBe('unreachable');
    } finally {
      await Promise.all([sandbox.close(), yours.close()]);
    }
  });

  it('refuses KRATOS_PUBLIC_URL without KRATOS_ADMIN_URL', async () => {
    await expect(startSandbox({ kratosPublicUrl: 'http://127.0.0.1:4433' })).rejects.toThrow(
      /KRATOS_PUBLIC_URL: is for your own Kratos/,
    );
  });
});
