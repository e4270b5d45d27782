import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePersonaEvent } from '../../src/persona/event.js';

const fixtures = new URL('../fixtures/persona/', import.meta.url);
const eventFixtures = readdirSync(fixtures).filter(
  (name) => name.startsWith('persona-event-') && !name.includes('minimal'),
);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8')) as unknown;

describe('parsePersonaEvent', () => {
  it.each(eventFixtures)('reads the docs example %s', (name) => {
    const result = parsePersonaEvent(read(name));
    expect(result.ok).toBe(true);
    if (!result.ok || result.event.kind !== 'inquiry') throw new Error('not an inquiry event');
    expect(result.event).toMatchObject({
      id: 'evt_o9byQRbjygu76Jbtea9wuJ1boP7a',
      createdAt: '2024-02-15T23:48:17.732Z',
      inquiry: {
        id: 'inq_zEx4jL84ShbUyuwX6AzPSqt6',
        referenceId: 'abc-123',
        templateId: 'itmpl_p8ANAJy9iqadm2buF2xcVgqH',
        createdAt: '2023-03-29T19:06:45.000Z',
      },
    });
    expect(JSON.stringify(result.event)).not.toMatch(/Jane|1995-09-08|jane@doe\.com/);
  });

  it('needs the event time of an inquiry event', () => {
    expect(parsePersonaEvent(read('persona-event-inquiry-approved-minimal.json'))).toEqual({
      ok: false,
      problem: 'data.attributes.created-at: Invalid input: expected string, received undefined',
    });
  });

  it('reads the legacy template relationship when there is no inquiry-template', () => {
    const minimal = read('persona-event-inquiry-approved-minimal.json') as {
      data: { attributes: Record<string, unknown> };
    };
    minimal.data.attributes['created-at'] = '2026-01-01T00:00:00.000Z';
    const result = parsePersonaEvent(minimal);
    expect(result.ok && result.event.kind === 'inquiry' && result.event.inquiry).toMatchObject({
      templateId: 'tmpl_XYZ789',
      status: 'approved',
      referenceId: undefined,
      createdAt: undefined,
    });
  });

  it('acknowledges other events from their envelope alone', () => {
    expect(parsePersonaEvent({ data: { type: 'event', id: 'evt_1', attributes: { name: 'case.created' } } })).toEqual({
      ok: true,
      event: { kind: 'other', id: 'evt_1', name: 'case.created' },
    });
  });

  it.each([
    [null, 'body'],
    [[], 'body'],
    [{ data: { type: 'event', id: 'evt_1', attributes: {} } }, 'data.attributes.name'],
    [{ data: { type: 'event', id: 'not-an-event-id', attributes: { name: 'x' } } }, 'data.id'],
    [
      { data: { type: 'event', id: 'evt_1', attributes: { name: 'inquiry.approved', 'created-at': 'yesterday' } } },
      'data.attributes.created-at',
    ],
  ])('names the problem of %j', (body, field) => {
    const result = parsePersonaEvent(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.split(':')[0]).toBe(field);
  });

  it('does not let prototype keys through', () => {
    const body = JSON.parse(
      '{"__proto__":{"polluted":true},"data":{"type":"event","id":"evt_1","attributes":{"name":"x","constructor":{"prototype":{"polluted":true}}}}}',
    ) as unknown;
    expect(parsePersonaEvent(body).ok).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
