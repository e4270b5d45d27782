import { z } from 'zod';
import { accountResource, type Account } from './account.js';
import { normalizeKeys } from './inflection.js';
import { inquiryResource, personaTime, type Inquiry } from './inquiry.js';

const envelope = z.object({
  data: z.object({
    type: z.literal('event'),
    id: z.string().regex(/^evt_[A-Za-z0-9]+$/, 'must be an event id (evt_...)'),
    attributes: z.object({
      name: z.string().min(1).max(200),
      'created-at': personaTime.optional(),
      payload: z.object({ data: z.unknown() }).nullable().optional(),
    }),
  }),
});

const inquiryEvent = z.object({
  data: z.object({
    attributes: z.object({
      'created-at': personaTime,
      payload: z.object({ data: inquiryResource }),
    }),
  }),
});

const accountEvent = z.object({
  data: z.object({
    attributes: z.object({
      'created-at': personaTime,
      payload: z.object({ data: accountResource }),
    }),
  }),
});

/** The account events the service reads; others are acknowledged unread. */
const ACCOUNT_EVENTS = new Set(['account.redacted']);

export type PersonaEvent =
  | { kind: 'inquiry'; id: string; name: string; createdAt: string; inquiry: Inquiry }
  | { kind: 'account'; id: string; name: string; createdAt: string; account: Account }
  | { kind: 'other'; id: string; name: string };

export type EventParseResult = { ok: true; event: PersonaEvent } | { ok: false; problem: string };

const describe = (error: z.ZodError) => {
  const issue = error.issues[0];
  return issue === undefined ? 'invalid event' : `${issue.path.join('.') || 'body'}: ${issue.message}`;
};

/**
 * Reads a verified webhook body. The event is `data` (type `event`), its name is
 * `data.attributes.name` and the inquiry is `data.attributes.payload.data` (reference/persona-api.md).
 * Events other than `inquiry.*` and `account.redacted` only need a well-formed envelope: they are
 * acknowledged, not read.
 */
export function parsePersonaEvent(body: unknown): EventParseResult {
  const normalized = normalizeKeys(body);
  const parsedEnvelope = envelope.safeParse(normalized);
  if (!parsedEnvelope.success) return { ok: false, problem: describe(parsedEnvelope.error) };
  const { id, attributes } = parsedEnvelope.data.data;
  if (ACCOUNT_EVENTS.has(attributes.name)) {
    const parsedAccount = accountEvent.safeParse(normalized);
    if (!parsedAccount.success) return { ok: false, problem: describe(parsedAccount.error) };
    const { 'created-at': createdAt, payload } = parsedAccount.data.data.attributes;
    return { ok: true, event: { kind: 'account', id, name: attributes.name, createdAt, account: payload.data } };
  }
  if (!attributes.name.startsWith('inquiry.')) return { ok: true, event: { kind: 'other', id, name: attributes.name } };

  const parsedInquiry = inquiryEvent.safeParse(normalized);
  if (!parsedInquiry.success) return { ok: false, problem: describe(parsedInquiry.error) };
  const { 'created-at': createdAt, payload } = parsedInquiry.data.data.attributes;
  return { ok: true, event: { kind: 'inquiry', id, name: attributes.name, createdAt, inquiry: payload.data } };
}
