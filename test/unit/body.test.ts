import { describe, expect, it } from 'vitest';
import { isJsonContentType, readBody } from '../../src/http/body.js';
import { HttpError } from '../../src/http/httpError.js';
import { fakeRequest } from '../support/fakeRequest.js';

describe('isJsonContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/json;charset=utf-8',
    'application/json; charset="utf-8"',
    'application/json; charset=utf8',
    'Application/JSON ; Charset="UTF8"',
    'application/json; charset=utf-8; boundary=x',
  ])('accepts %s', (header) => expect(isJsonContentType(header)).toBe(true));

  it.each([
    undefined,
    '',
    'text/plain',
    'application/jsonx',
    'application/json-patch+json',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16',
    'application/json; charset="latin1"',
    'application/json; charset=',
    'application/json, text/html',
  ])('refuses %j', (header) => expect(isJsonContentType(header)).toBe(false));
});

describe('readBody', () => {
  const limits = { limitBytes: 1_024, idleTimeoutMs: 100 };

  it('reads a body sent in pieces', async () => {
    const req = fakeRequest({ 'content-length': '6' });
    const reading = readBody(req, limits);
    req.write('{"a"');
    setTimeout(() => req.end(':1'), 50);
    expect((await reading).toString()).toBe('{"a":1');
  });

  it('answers 408 when the client stalls longer than the idle timeout between pieces', async () => {
    const req = fakeRequest({ 'content-length': '100' });
    const reading = readBody(req, limits);
    req.write('x'.repeat(10));
    const started = performance.now();
    await expect(reading).rejects.toEqual(new HttpError(408, 'request_timeout', 'request body arrived too slowly'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('refuses a body announced beyond the limit before reading it', async () => {
    const req = fakeRequest({ 'content-length': String(1_024 * 1_024) });
    await expect(readBody(req, limits)).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(req.readableLength).toBe(0);
  });

  it('refuses a compressed body without inflating it', async () => {
    await expect(readBody(fakeRequest({ 'content-encoding': 'gzip' }), limits)).rejects.toMatchObject({
      status: 415,
      code: 'unsupported_encoding',
    });
  });
});
