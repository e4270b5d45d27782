import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isPlainHttpOffMachine } from '../../src/security/loopback.js';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', 'LOCALHOST', 'app.localhost', '::ffff:127.0.0.1'])(
    'takes %s for loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.example.com', 'localhost.example.com', 'idv.example.com'])(
    'does not take %s for loopback',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('isPlainHttpOffMachine', () => {
  it('flags plain http off this machine only', () => {
    expect(isPlainHttpOffMachine('http://idv.example.com')).toBe(true);
    expect(isPlainHttpOffMachine('http://10.1.2.3:3000/x')).toBe(true);
    expect(isPlainHttpOffMachine('https://idv.example.com')).toBe(false);
    expect(isPlainHttpOffMachine('http://127.0.0.1:3000')).toBe(false);
    expect(isPlainHttpOffMachine('http://[::1]:4455/')).toBe(false);
    expect(isPlainHttpOffMachine('not a url')).toBe(false);
  });
});
