import { describe, expect, it } from 'vitest';
import { parsePersonaEvent } from '../../src/persona/event.js';
import { PERSONA_DOCUMENT } from '../support/conformance/checkExchange.js';

/**
 * Persona's own example body of every `inquiry.*` webhook in the vendored 2025-12-08 document
 * (test/fixtures/openapi/), read in each key inflection a webhook may be configured with.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const INFLECTIONS: Record<string, (key: string) => string> = {
  kebab: (key) => key,
  snake: (key) => key.replace(/-/g, '_'),
  camel: (key) => key.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()),
};

/** Inflects every key but those of `fields`, which Persona never inflects. */
function inflect(value: Json, rename: (key: string) => string): Json {
  if (Array.isArray(value)) return value.map((item) => inflect(item, rename));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [rename(key), key === 'fields' ? child : inflect(child, rename)]),
  );
}

const webhooks = PERSONA_DOCUMENT.at('/webhooks') as Record<string, unknown>;
const inquiryEvents = Object.keys(webhooks).filter((name) => name.startsWith('inquiry.'));

function exampleOf(eventName: string) {
  const examples = PERSONA_DOCUMENT.at(
    `${PERSONA_DOCUMENT.findWebhook(eventName)?.pointer}/requestBody/content/application~1json/examples`,
  ) as Record<string, Json>;
  const [first] = Object.values(examples);
  const example = PERSONA_DOCUMENT.deref({ node: first ?? null, pointer: '' }).node as { value: Json };
  return example.value as {
    data: {
      id: string;
      attributes: {
        name: string;
        'created-at': string;
        payload: {
          data: {
            id: string;
            attributes: { status: string; 'decisioned-at': string | null; 'redacted-at'?: string | null };
            relationships: Record<string, { data: { id: string } | null }>;
          };
        };
      };
    };
  };
}

describe("Persona's webhook examples for 2025-12-08", () => {
  it('cover every inquiry event the document describes', () => {
    expect(inquiryEvents).toEqual(expect.arrayContaining(['inquiry.created', 'inquiry.approved', 'inquiry.declined']));
    expect(inquiryEvents.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(Object.keys(INFLECTIONS))('in %s inflection', (inflection) => {
    it.each(inquiryEvents)('%s is read as an inquiry event', (eventName) => {
      const example = exampleOf(eventName);
      const inquiry = example.data.attributes.payload.data;
      const body = inflect(example as unknown as Json, INFLECTIONS[inflection] as (key: string) => string);

      const result = parsePersonaEvent(body);

      expect(result).toMatchObject({ ok: true, event: { kind: 'inquiry', name: eventName } });
      if (!result.ok || result.event.kind !== 'inquiry') throw new Error('not an inquiry event');
      expect(result.event).toEqual({
        kind: 'inquiry',
        id: example.data.id,
        name: eventName,
        createdAt: new Date(example.data.attributes['created-at']).toISOString(),
        inquiry: {
          id: inquiry.id,
          status: inquiry.attributes.status,
          // Null in every example: the account carries the reference id.
          referenceId: null,
          templateId: inquiry.relationships['inquiry-template']?.data?.id,
          accountId: inquiry.relationships['account']?.data?.id,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          decisionedAt: inquiry.attributes['decisioned-at'] ?? undefined,
          // Set in inquiry.redacted's example only.
          redactedAt: inquiry.attributes['redacted-at'] ?? undefined,
          // The examples carry no note: the service did not open them.
          openedByService: false,
        },
      });
      expect(result.event.inquiry.templateId).toMatch(/^itmpl_/);
      // Personal data in the examples never reaches the parsed event.
      expect(JSON.stringify(result.event)).not.toMatch(/Jane|1995-09-08|jane@example\.com/);
    });
  });
});

describe("Persona's account.redacted example for 2025-12-08", () => {
  it('is read as an account event: its id and reference id, never its fields', () => {
    const example = exampleOf('account.redacted') as unknown as {
      data: { id: string; attributes: { payload: { data: { id: string; attributes: { 'reference-id': string } } } } };
    };
    const account = example.data.attributes.payload.data;
    const result = parsePersonaEvent(example);
    expect(result).toEqual({
      ok: true,
      event: {
        kind: 'account',
        id: example.data.id,
        name: 'account.redacted',
        createdAt: expect.any(String),
        account: { id: account.id, referenceId: account.attributes['reference-id'], redactedAt: undefined },
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/Jane|1994-12-30|jane@doe\.com/);
  });
});
