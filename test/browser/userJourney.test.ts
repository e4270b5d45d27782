import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import { requireChromium } from '../support/requireChromium.js';

/**
 * The user pages in a real browser: Debian's Chromium, driven by playwright-core, through the
 * sandbox (the service, the Kratos stand-in and its sign-in pages, the Persona stand-in's hosted
 * flow, the app stand-in). Every page a journey visits is saved as a screenshot under
 * test-artifacts/browser/, and checked for what a person sees: its heading, and links that lead
 * somewhere.
 */

const executablePath = requireChromium();
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/browser/', import.meta.url));

/** Debian's Chromium as CI runs it: no sandbox (root in a container), nothing fetched on its own. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let sandbox: SandboxEnvironment;

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  // Playwright gives each launch a fresh --user-data-dir of its own.
  browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
}, 30_000);
afterAll(() => browser?.close());
afterEach(() => sandbox?.close());

/** A person's walk through the pages: each page they land on is looked at, saved and counted. */
class Journey {
  private shots = 0;
  private loads = 0;

  private constructor(
    readonly page: Page,
    private readonly name: string,
  ) {
    page.on('load', () => (this.loads += 1));
    mkdirSync(`${ARTIFACTS}${name}`, { recursive: true });
  }

  static async begin(name: string, locale = 'en-US') {
    const context = await browser.newContext({ locale, viewport: { width: 900, height: 700 } });
    // The browser asks every server for an icon: not part of any flow, nor of the stand-ins' APIs.
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    return new Journey(await context.newPage(), name);
  }

  /** Follows `click` to the page at `url`, which must show `heading`; saves it as `step`. */
  async to(step: string, url: (url: URL) => boolean, heading: string, click: () => Promise<void>) {
    await Promise.all([this.page.waitForURL(url, { waitUntil: 'load' }), click()]);
    return this.see(step, heading);
  }

  /** The page as it is now: its heading, and a screenshot. */
  async see(step: string, heading: string) {
    expect(await this.page.locator('h1').innerText(), `${this.name}: ${step} at ${this.page.url()}`).toBe(heading);
    this.shots += 1;
    const file = `${String(this.shots).padStart(2, '0')}-${step}.png`;
    await this.page.screenshot({ path: `${ARTIFACTS}${this.name}/${file}`, fullPage: true });
  }

  /** Every link on the page leads to a page that answers, followed as the browser would (cookies included). */
  async linksWork() {
    const hrefs = await this.page
      .locator('a[href]')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) {
      const response = await this.page.request.get(href);
      expect(response.status(), href).toBe(200);
    }
  }

  link(name: string) {
    return () => this.page.getByRole('link', { name, exact: true }).click();
  }

  button(name: string) {
    return () => this.page.getByRole('button', { name, exact: true }).click();
  }

  text(selector: string) {
    return this.page.locator(selector).innerText();
  }

  /** No page went unseen. */
  async end() {
    expect(this.loads).toBe(this.shots);
    await this.page.context().close();
  }
}

const at = (base: string) => (url: URL) => url.href.startsWith(base);

describe('the user pages in a browser', () => {
  it('registration, start, the hosted flow, approval, return and login', async () => {
    sandbox = await startSandbox({ logger: createLogger({ level: 'silent' }) });
    const { app, persona } = sandbox;
    const ui = sandbox.kratosUi as NonNullable<typeof sandbox.kratosUi>;
    const walk = await Journey.begin('approved');

    await walk.page.goto(`${app.url}/`);
    await walk.see('app-signed-out', 'Example app (app stand-in)');
    expect(await walk.text('#session')).toBe('Not signed in.');

    await walk.to('register', at(ui.registrationUrl), 'Register (Kratos stand-in)', walk.link('Register'));
    await walk.page.getByLabel('Email').fill('jane@example.com');
    // Kratos registers and signs in, then returns to /persona/start, which sends her to Persona.
    await walk.to('persona-hosted-flow', at(`${persona.url}/verify`), 'Persona sandbox', walk.button('Register'));

    await walk.to('back-at-app', at(app.welcomeUrl), 'Example app (app stand-in)', walk.button('Complete and approve'));
    expect(await walk.text('#persona-return')).toMatch(/status approved\. That proves nothing by itself/);
    await persona.settled();
    await walk.page.reload();
    await walk.see('app-verified', 'Example app (app stand-in)');
    expect(await walk.text('#session')).toMatch(/^Signed in as jane@example\.com/);
    expect(await walk.text('#verification')).toBe('Verification: approved.');

    await walk.to('sign-in', at(ui.loginUrl), 'Sign in (Kratos stand-in)', walk.link('Sign in as someone else'));
    await walk.to('signed-in', at(app.url), 'Example app (app stand-in)', walk.button('Sign in as jane@example.com'));
    expect(await walk.text('#verification')).toBe('Verification: approved.');
    await walk.end();
  });

  it('a blocked login, its link and the flow, in German', async () => {
    sandbox = await startSandbox({
      logger: createLogger({ level: 'silent' }),
      env: { LOGIN_POLICY: 'require-approved' },
    });
    const { app, persona, serviceUrl } = sandbox;
    const ui = sandbox.kratosUi as NonNullable<typeof sandbox.kratosUi>;
    const walk = await Journey.begin('blocked-login', 'de-DE');

    await walk.page.goto(`${app.url}/`);
    await walk.see('app-signed-out', 'Example app (app stand-in)');
    await walk.to('register', at(ui.registrationUrl), 'Register (Kratos stand-in)', walk.link('Register'));
    await walk.page.getByLabel('Email').fill('ann@example.com');
    // require-approved: registration signs nobody in, so /persona/start asks her to sign in.
    await walk.to(
      'please-sign-in',
      at(`${serviceUrl}/persona/start`),
      'Bitte melden Sie sich an',
      walk.button('Register'),
    );
    expect(await walk.page.locator('html').getAttribute('lang')).toBe('de');
    expect(await walk.page.getByRole('link').allInnerTexts()).toEqual([
      'Anmelden',
      'Zurück zur Anwendung',
      'Support kontaktieren',
    ]);
    await walk.linksWork();

    await walk.to('sign-in', at(ui.loginUrl), 'Sign in (Kratos stand-in)', walk.link('Anmelden'));
    await walk.to(
      'login-blocked',
      at(ui.loginUrl),
      'Sign in (Kratos stand-in)',
      walk.button('Sign in as ann@example.com'),
    );
    expect(await walk.text('[role=alert]')).toBe(
      'Bitte bestätigen Sie Ihre Identität, um fortzufahren. Verify your identity Contact support',
    );

    await walk.to(
      'persona-hosted-flow',
      at(`${persona.url}/verify`),
      'Persona sandbox',
      walk.link('Verify your identity'),
    );
    await walk.to('back-at-app', at(app.welcomeUrl), 'Example app (app stand-in)', walk.button('Complete and approve'));
    expect(await walk.text('#session')).toBe('Not signed in.');
    await persona.settled();

    await walk.to('sign-in-again', at(ui.loginUrl), 'Sign in (Kratos stand-in)', walk.link('Sign in'));
    await walk.to('signed-in', at(app.url), 'Example app (app stand-in)', walk.button('Sign in as ann@example.com'));
    expect(await walk.text('#session')).toMatch(/^Signed in as ann@example\.com/);
    expect(await walk.text('#verification')).toBe('Verification: approved.');
    await walk.end();
  });

  it('a declined user is led back to the app and to support, from the page and from the login', async () => {
    // Kept signed in after the decline, to see /persona/start's page (the default revokes the session).
    sandbox = await startSandbox({ logger: createLogger({ level: 'silent' }), env: { ON_DECLINE: 'none' } });
    const { app, persona, serviceUrl } = sandbox;
    const ui = sandbox.kratosUi as NonNullable<typeof sandbox.kratosUi>;
    const walk = await Journey.begin('declined');

    await walk.page.goto(`${ui.registrationUrl}?return_to=${encodeURIComponent(`${serviceUrl}/persona/start`)}`);
    await walk.see('register', 'Register (Kratos stand-in)');
    await walk.page.getByLabel('Email').fill('joe@example.com');
    await walk.to('persona-hosted-flow', at(`${persona.url}/verify`), 'Persona sandbox', walk.button('Register'));
    await walk.to('back-at-app', at(app.welcomeUrl), 'Example app (app stand-in)', walk.button('Complete and decline'));
    await persona.settled();

    const start = at(`${serviceUrl}/persona/start`);
    await walk.to('declined', start, 'Verification declined', walk.link('Verify your identity'));
    expect(await walk.page.getByRole('link').allInnerTexts()).toEqual(['Back to the application', 'Contact support']);
    await walk.linksWork();
    await walk.to(
      'back-at-app-again',
      at(app.welcomeUrl),
      'Example app (app stand-in)',
      walk.link('Back to the application'),
    );

    await walk.to('sign-in', at(ui.loginUrl), 'Sign in (Kratos stand-in)', walk.link('Sign in as someone else'));
    await walk.to(
      'login-blocked',
      at(ui.loginUrl),
      'Sign in (Kratos stand-in)',
      walk.button('Sign in as joe@example.com'),
    );
    expect(await walk.text('[role=alert]')).toBe(
      'Your identity verification was declined. Please contact support. Contact support',
    );
    await walk.to('support', at(app.supportUrl), 'Support (app stand-in)', walk.link('Contact support'));
    await walk.end();
  });
});
