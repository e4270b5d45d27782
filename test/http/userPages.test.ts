import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { signStartToken } from '../../src/security/signedLink.js';
import { startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const ENV = {
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  DEFAULT_RETURN_TO: 'https://app.example.com/home',
  LOGIN_URL: 'https://auth.example.com/ui/login',
  SUPPORT_URL: 'https://example.com/help',
};

/** A browser's GET of a user page, in a language. */
function visit(h: Harness, path: string, options: { cookie?: string; language?: string } = {}) {
  const test = request(h.app).get(path).set('Accept', 'text/html,application/xhtml+xml');
  if (options.cookie !== undefined) test.set('Cookie', options.cookie);
  if (options.language !== undefined) test.set('Accept-Language', options.language);
  return test;
}

/** What a person sees and can follow: the heading, the paragraph, and each link's label and target. */
function read(html: string) {
  const decode = (text: string) =>
    text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
  return {
    heading: decode(/<h1>(.*?)<\/h1>/.exec(html)?.[1] ?? ''),
    message: decode(/<\/h1>\n<p>(.*?)<\/p>/.exec(html)?.[1] ?? ''),
    links: [...html.matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map(([, href = '', label = '']) => ({
      label: decode(label),
      href: decode(href),
    })),
  };
}

const signedIn = (h: Harness, identityId: string) => h.kratos.createSession(identityId).cookie;

describe('pages in the language the browser asks for', () => {
  it('answers in German for a German browser, and says so', async () => {
    harness = await startHarness(ENV);
    const response = await visit(harness, '/persona/start', { language: 'de-DE,de;q=0.9,en;q=0.8' });
    expect(response.status).toBe(401);
    expect(response.text).toMatch(/^<!doctype html>\n<html lang="de">/);
    expect(response.headers['content-language']).toBe('de');
    expect(response.headers['vary']).toMatch(/Accept-Language/);
    expect(read(response.text)).toMatchObject({
      heading: 'Bitte melden Sie sich an',
      links: [
        expect.objectContaining({ label: 'Anmelden' }),
        expect.objectContaining({ label: 'Zurück zur Anwendung' }),
        expect.objectContaining({ label: 'Support kontaktieren' }),
      ],
    });
  });

  it('answers in English when the browser asks for a language there is no file for', async () => {
    harness = await startHarness(ENV);
    const response = await visit(harness, '/persona/start', { language: 'ja' });
    expect(response.text).toMatch(/<html lang="en">/);
    expect(read(response.text).heading).toBe('Please sign in');
  });

  it('gives apps the error message in the language too, by the same code', async () => {
    harness = await startHarness(ENV);
    const response = await request(harness.app).get('/persona/status').set('Accept-Language', 'de');
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: {
        code: 'unauthenticated',
        message: 'Melden Sie sich an, um mit der Überprüfung Ihrer Identität fortzufahren.',
      },
    });
  });
});

describe('every page has a way forward', () => {
  it('"Please sign in" links to LOGIN_URL, which brings the user back to this step', async () => {
    harness = await startHarness(ENV);
    const response = await visit(harness, '/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Forders');
    const [signIn, back, support] = read(response.text).links;
    expect(signIn?.label).toBe('Sign in');
    const login = new URL(signIn?.href ?? '');
    expect(login.origin + login.pathname).toBe('https://auth.example.com/ui/login');
    expect(login.searchParams.get('return_to')).toBe(
      'https://idv.example.com/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Forders',
    );
    expect(back).toEqual({ label: 'Back to the application', href: 'https://app.example.com/orders' });
    expect(support).toEqual({ label: 'Contact support', href: 'https://example.com/help' });
  });

  it('keeps what LOGIN_URL already asks, and leaves return_to out without PUBLIC_BASE_URL', async () => {
    harness = await startHarness({ ...ENV, LOGIN_URL: 'https://auth.example.com/self-service/login/browser?aal=aal1' });
    const [signIn] = read((await visit(harness, '/persona/start')).text).links;
    expect(new URL(signIn?.href ?? '').searchParams.get('aal')).toBe('aal1');
    expect(new URL(signIn?.href ?? '').searchParams.get('return_to')).toBe(
      'https://idv.example.com/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Fhome',
    );
    await harness.close();

    const { PUBLIC_BASE_URL: _unset, ...withoutBase } = ENV;
    harness = await startHarness(withoutBase);
    expect(read((await visit(harness, '/persona/start')).text).links[0]).toEqual({
      label: 'Sign in',
      href: 'https://auth.example.com/ui/login',
    });
  });

  it('an expired link asks to sign in, and the way back leaves the dead token behind', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const expired = signStartToken(
      identity.id,
      Math.floor(harness.clock.now / 1000) - 60,
      harness.config.start.linkSigningKeys[0] as Buffer,
    );
    const response = await visit(harness, `/persona/start?token=${expired}`);
    expect(response.status).toBe(401);
    const page = read(response.text);
    expect(page.heading).toBe('This link has expired');
    expect(page.links.map((link) => link.label)).toEqual(['Sign in', 'Back to the application', 'Contact support']);
    expect(page.links[0]?.href).not.toContain(expired);
  });

  it('a refused return_to is explained without its name and never linked; the default is', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const response = await visit(harness, '/persona/start?return_to=https%3A%2F%2Fevil.example.net%2F', {
      cookie: signedIn(harness, identity.id),
    });
    expect(response.status).toBe(400);
    const page = read(response.text);
    expect(page.heading).toBe('This page cannot send you back');
    expect(`${page.heading} ${page.message}`).not.toMatch(/return_to|_/);
    expect(page.links).toEqual([
      { label: 'Back to the application', href: 'https://app.example.com/home' },
      { label: 'Contact support', href: 'https://example.com/help' },
    ]);
    expect(response.text).not.toContain('evil.example.net');
  });

  it.each(['declined', 'failed'])('a %s user is led back to the app and to support', async (status) => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState(status);
    const response = await visit(harness, '/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Faccount', {
      cookie: signedIn(harness, identityId),
    });
    expect(response.status).toBe(200);
    expect(read(response.text).links).toEqual([
      { label: 'Back to the application', href: 'https://app.example.com/account' },
      { label: 'Contact support', href: 'https://example.com/help' },
    ]);
  });

  it('a user in review continues to the app', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('needs_review');
    const response = await visit(harness, '/persona/start', { cookie: signedIn(harness, identityId) });
    expect(read(response.text)).toEqual({
      heading: 'Verification in review',
      message: expect.stringMatching(/^Thank you\./),
      links: [{ label: 'Continue', href: 'https://app.example.com/home' }],
    });
  });

  it('"Please try again later" retries the same address, which works once Persona is back', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const cookie = signedIn(harness, identity.id);
    harness.persona.inject({ path: '/api/v1/inquiries', status: 500, times: 10 });
    const path = '/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Fa';
    const response = await visit(harness, path, { cookie });
    expect(response.status).toBe(503);
    const [retry, ...rest] = read(response.text).links;
    expect(retry?.label).toBe('Try again');
    const again = new URL(retry?.href ?? '', `https://idv.example.com${path}`);
    expect(again.href).toBe(`https://idv.example.com${path}`);
    expect(rest.map((link) => link.href)).toEqual(['https://app.example.com/a', 'https://example.com/help']);

    harness.persona.clearFaults();
    expect((await visit(harness, again.pathname + again.search, { cookie })).status).toBe(303);
  });

  it('offers no link it has no address for: no LOGIN_URL, no SUPPORT_URL, no return_to', async () => {
    harness = await startHarness({ PUBLIC_BASE_URL: 'https://idv.example.com' });
    const { identityId } = harness.identityInState('declined');
    expect(read((await visit(harness, '/persona/start')).text).links).toEqual([]);
    expect(
      read((await visit(harness, '/persona/start', { cookie: signedIn(harness, identityId) })).text).links,
    ).toEqual([]);
  });
});
