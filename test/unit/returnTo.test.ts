import { describe, expect, it } from 'vitest';
import { ReturnToPolicy } from '../../src/http/returnTo.js';

const policy = new ReturnToPolicy(
  ['https://app.example.com', 'https://shop.example.com/account'],
  'https://app.example.com/home',
);

describe('ReturnToPolicy', () => {
  it('uses the default when none is asked for', () => {
    expect(policy.resolve(undefined)).toEqual({ ok: true, url: 'https://app.example.com/home' });
    expect(policy.resolve('')).toEqual({ ok: true, url: 'https://app.example.com/home' });
    expect(new ReturnToPolicy([], undefined).resolve(undefined)).toEqual({ ok: true, url: undefined });
  });

  it.each([
    ['https://app.example.com/dashboard?tab=1', 'https://app.example.com/dashboard?tab=1'],
    ['https://APP.example.com:443/x', 'https://app.example.com/x'],
    ['https://shop.example.com/account', 'https://shop.example.com/account'],
    ['https://shop.example.com/account/orders', 'https://shop.example.com/account/orders'],
    ['https://app.example.com/a/../b', 'https://app.example.com/b'],
  ])('allows %s as %s', (requested, normalised) => {
    expect(policy.resolve(requested)).toEqual({ ok: true, url: normalised });
  });

  it.each([
    'https://evil.example.net/',
    '//evil.example.net/',
    '/relative/path',
    'javascript:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    'http://app.example.com/',
    'https://app.example.com.evil.example.net/',
    'https://app.example.com@evil.example.net/',
    'https://user:pass@app.example.com/',
    'https://evil.example.net\\@app.example.com/',
    'https://evil.example.net#@app.example.com',
    'https://shop.example.com/accounting',
    'https://shop.example.com/',
    'https://app.example.com:8443/',
    ' https://evil.example.net',
  ])('refuses %s', (requested) => {
    expect(policy.resolve(requested)).toEqual({ ok: false });
  });

  it('refuses a repeated parameter', () => {
    expect(policy.resolve(['https://app.example.com/', 'https://evil.example.net/'])).toEqual({ ok: false });
  });

  it('refuses everything but the default when there is no allowlist', () => {
    const strict = new ReturnToPolicy([], 'https://app.example.com/welcome');
    expect(strict.resolve('https://app.example.com/welcome')).toEqual({
      ok: true,
      url: 'https://app.example.com/welcome',
    });
    expect(strict.resolve('https://app.example.com/other')).toEqual({ ok: false });
  });
});
