import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import type { KratosUi } from '../../sandbox/kratosUi.js';

let sandbox: SandboxEnvironment;
afterEach(() => sandbox.close());

/** The sandbox with the Kratos stand-in and its sign-in pages, as startSandbox starts it without a Kratos of yours. */
async function withStandIns(env: Record<string, string> = {}) {
  sandbox = await startSandbox({ logger: createLogger({ level: 'silent' }), env });
  return { kratos: sandbox.kratos as KratosStandIn, ui: sandbox.kratosUi as KratosUi };
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
  redirect: 'manual' as const,
});

describe("the Kratos stand-in's sign-in pages", () => {
  it('register with one click and set the session cookie for the host, which the service accepts', async () => {
    const { ui } = await withStandIns();
    const registered = await fetch(
      ui.registrationUrl,
      form({ email: 'eve@example.com', return_to: sandbox.app.welcomeUrl }),
    );
    expect(registered.status).toBe(303);
    expect(registered.headers.get('location')).toBe(sandbox.app.welcomeUrl);
    const cookie = registered.headers.get('set-cookie') ?? '';
    const [session = ''] = cookie.split(';');
    // No Domain: the cookie belongs to 127.0.0.1, whatever the port, as the service's address does.
    expect(cookie).toMatch(/^ory_kratos_session=ory_st_\w+; Path=\/; HttpOnly; SameSite=Lax$/);

    const status = await fetch(`${sandbox.serviceUrl}/persona/status`, { headers: { cookie: session } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ status: 'created', verification_required: true });
  });

  it('refuse a return_to outside allowed_return_urls, as Kratos does', async () => {
    const { kratos, ui } = await withStandIns();
    for (const returnTo of ['https://evil.example.net/', `${sandbox.app.url}.evil.example.net/`]) {
      expect((await fetch(`${ui.loginUrl}?return_to=${encodeURIComponent(returnTo)}`)).status).toBe(400);
      expect((await fetch(ui.registrationUrl, form({ return_to: returnTo }))).status).toBe(400);
    }
    expect(kratos.identities()).toEqual([]);
    expect(
      (await fetch(`${ui.loginUrl}?return_to=${encodeURIComponent(`${sandbox.serviceUrl}/persona/start`)}`)).status,
    ).toBe(200);
  });

  it('show a blocked login with its message and links, in the language the browser sent', async () => {
    const { kratos, ui } = await withStandIns({ LOGIN_POLICY: 'require-approved' });
    const identity = kratos.createIdentity({ created_at: '2020-01-01T00:00:00Z' });
    const page = await fetch(ui.loginUrl, {
      ...form({ identity_id: identity.id, return_to: '' }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept-Language': 'de' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    const text = await page.text();
    expect(text).toContain('<p role="alert" data-message-id="4100002">Bitte bestätigen Sie Ihre Identität');
    expect(text).toMatch(
      new RegExp(`<a href="${sandbox.serviceUrl}/persona/start\\?token=[^"]+">Verify your identity</a>`),
    );
    expect(text).toContain(`<a href="${sandbox.app.supportUrl}">Contact support</a>`);
  });
});
