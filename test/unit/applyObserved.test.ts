import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttributeMatchConfig } from '../../src/config.js';
import type { MismatchAction } from '../../src/matching/attributeMatch.js';
import { OutboundError } from '../../src/outbound/outboundError.js';
import { createPersonaClient } from '../../src/persona/personaClient.js';
import type { KratosIdentity } from '../../src/kratos/kratosClient.js';
import { applyObserved } from '../../src/verification/applyObserved.js';
import { mirrorOf, type PersonaRecord } from '../../src/verification/record.js';
import type { TransitionRules } from '../../src/verification/transition.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { oracle, random, time, type Check, type HistoryEntry } from '../support/decisionOracle.js';
import { IDENTITY_ID, at, defaultRules } from '../support/records.js';

const KEY = 'persona_sandbox_applyobserved';
const TRAITS = { name: { first: 'Zéphyrine', last: 'Okonkwo' }, birthdate: '1987-03-14' };
const MATCHING_DOCUMENT = { 'name-first': 'ZEPHYRINE', 'name-last': 'OKONKWO', birthdate: '1987-03-14' };
const OTHER_PERSON = { 'name-first': 'MARGUERITE', 'name-last': 'OKONKWO', birthdate: '1990-11-02' };

let persona: PersonaStandIn;
beforeEach(async () => {
  persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
});
afterEach(() => persona.close());

const attributeMatch = (onMismatch: MismatchAction): AttributeMatchConfig => ({
  attributes: [
    { field: 'name-first', traitPath: ['name', 'first'] },
    { field: 'name-last', traitPath: ['name', 'last'] },
    { field: 'birthdate', traitPath: ['birthdate'] },
  ],
  rules: 'relaxed',
  onMismatch,
});

const identity = (traits: unknown = TRAITS): KratosIdentity => ({
  id: IDENTITY_ID,
  traits,
  metadataAdmin: {},
  metadataPublic: {},
  createdAt: at(0),
  state: 'active',
  emailAddresses: [],
  schemaId: 'default',
});

/** What Persona sees of the identity's inquiries, and the record as the service applies its events. */
function scenario(rules: TransitionRules) {
  const client = createPersonaClient({
    apiBase: persona.apiBase,
    apiKey: KEY,
    version: '2025-12-08',
    timeoutMs: 1_000,
  });
  const deps = { persona: client, rules, now: () => Date.parse(at(59)) };
  let record: PersonaRecord | null = null;
  return {
    inquiry(document: object, createdMinute = 0) {
      return persona.addInquiry({
        referenceId: IDENTITY_ID,
        status: 'approved',
        createdAt: at(createdMinute),
        document,
      }).id;
    },
    /** Applies Persona's `inquiry.<status>` of `inquiryId`, decided at `minute`. */
    async see(
      inquiryId: string,
      status: string,
      minute: number,
      options: {
        createdMinute?: number;
        traits?: unknown;
        eventId?: string | null;
        decisionedAt?: null;
        openedByService?: boolean;
      } = {},
    ) {
      const inquiry = {
        id: inquiryId,
        status,
        referenceId: IDENTITY_ID,
        templateId: 'itmpl_A',
        createdAt: at(options.createdMinute ?? 0),
        openedByService: options.openedByService ?? true,
        ...(options.decisionedAt !== null && { decisionedAt: at(minute) }),
      };
      const eventId = options.eventId === undefined ? `evt_${inquiryId}_${status}_${minute}` : options.eventId;
      const result = await applyObserved(
        deps,
        { identity: identity(options.traits), record },
        { inquiry, observedAt: at(minute), eventId },
        {},
      );
      record = result.record;
      return record as PersonaRecord;
    },
    documentReads: () =>
      persona.requests.filter((request) => request.method === 'GET' && request.query.get('include') === 'verifications')
        .length,
  };
}

describe('applyObserved: the verified document and the traits', () => {
  it('applies an approval whose document matches, after one read of the document', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const record = await run.see(run.inquiry(MATCHING_DOCUMENT), 'approved', 5);
    expect(record.decision).toMatchObject({
      outcome: 'approved',
      attribute_match: {
        outcome: 'match',
        attributes: { 'name-first': 'match', 'name-last': 'match', birthdate: 'match' },
        rules: 'relaxed',
        on_mismatch: 'review',
        checked_at: at(59),
        first_approved_at: at(5),
      },
    });
    expect(mirrorOf(record)).toMatchObject({ status: 'approved', verified_at: at(5) });
    expect(run.documentReads()).toBe(1);
    expect(JSON.stringify(record)).not.toMatch(/ph.rine|okonkwo|1987/i);
  });

  it('holds a mismatch for review: not approved, until a later approval in Persona', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const inquiryId = run.inquiry(OTHER_PERSON);
    const reviewed = await run.see(inquiryId, 'approved', 5);
    expect(reviewed.decision).toMatchObject({
      outcome: 'needs_review',
      status: 'approved',
      attribute_match: { outcome: 'mismatch', attributes: { 'name-first': 'mismatch', birthdate: 'mismatch' } },
    });
    expect(mirrorOf(reviewed)).toEqual({
      status: 'needs_review',
      verified_at: null,
      inquiry_status: 'approved',
      step_up_verified_at: null,
      reverification_required: false,
    });

    // A reviewer approves the inquiry again in Persona: a later `decisioned-at`.
    const approved = await run.see(inquiryId, 'approved', 20);
    expect(approved.decision).toMatchObject({
      outcome: 'approved',
      decided_at: at(20),
      attribute_match: { outcome: 'mismatch', first_approved_at: at(5) },
    });
    expect(mirrorOf(approved)).toMatchObject({ status: 'approved', verified_at: at(20) });
    expect(run.documentReads()).toBe(1);
  });

  it("takes nothing but Persona's decisioned-at for an approval made again", async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const inquiryId = run.inquiry(OTHER_PERSON);
    await run.see(inquiryId, 'approved', 5);
    // The same approval in a later event without `decisioned-at` (an attribute blocklist): a tag update.
    const later = await run.see(inquiryId, 'approved', 20, { decisionedAt: null });
    expect(later.decision).toMatchObject({ outcome: 'needs_review', decided_at: at(5) });
  });

  it('takes a later approval that arrives first as the review, and lets the earlier one settle it', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const inquiryId = run.inquiry(OTHER_PERSON);
    expect((await run.see(inquiryId, 'approved', 20)).decision?.outcome).toBe('needs_review');
    const settled = await run.see(inquiryId, 'approved', 5);
    expect(settled.decision).toMatchObject({ outcome: 'approved', decided_at: at(20) });
    expect(settled.decision?.attribute_match?.first_approved_at).toBe(at(5));
    expect(run.documentReads()).toBe(1);
  });

  it('declines on a mismatch under decline', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('decline') }));
    const inquiryId = run.inquiry(OTHER_PERSON);
    const declined = await run.see(inquiryId, 'approved', 5);
    expect(declined.decision).toMatchObject({ outcome: 'declined', status: 'approved' });
    expect(mirrorOf(declined)).toMatchObject({ status: 'declined', verified_at: null });
    // Approving the same document again changes nothing.
    expect((await run.see(inquiryId, 'approved', 20)).decision?.outcome).toBe('declined');
  });

  it('approves and records the mismatch under flag', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('flag') }));
    const record = await run.see(run.inquiry(OTHER_PERSON), 'approved', 5);
    expect(record.decision).toMatchObject({ outcome: 'approved', attribute_match: { outcome: 'mismatch' } });
    expect(mirrorOf(record)).toMatchObject({ status: 'approved', verified_at: at(5) });
  });

  it('never lets an approval held for review lift a decline', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const first = run.inquiry(MATCHING_DOCUMENT, 0);
    await run.see(first, 'declined', 5);
    const second = run.inquiry(OTHER_PERSON, 10);
    const record = await run.see(second, 'approved', 20, { createdMinute: 10 });
    expect(record.decision).toMatchObject({ outcome: 'declined', inquiry_id: first });
    expect(mirrorOf(record).status).toBe('declined');
  });

  it('reads the document once per inquiry: not for a redelivery, a reconciliation or a decline', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const inquiryId = run.inquiry(MATCHING_DOCUMENT);
    await run.see(inquiryId, 'approved', 5);
    await run.see(inquiryId, 'approved', 5);
    await run.see(inquiryId, 'approved', 5, { eventId: null });
    await run.see(inquiryId, 'declined', 8);
    expect(run.documentReads()).toBe(1);
  });

  it('counts a missing trait or document field as a mismatch would', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const record = await run.see(run.inquiry(MATCHING_DOCUMENT), 'approved', 5, { traits: { email: 'z@example.com' } });
    expect(record.decision).toMatchObject({ outcome: 'needs_review', attribute_match: { outcome: 'missing' } });
  });

  it('applies nothing while Persona cannot be read, so the event is delivered again', async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const inquiryId = run.inquiry(MATCHING_DOCUMENT);
    persona.inject({ method: 'GET', path: `/api/v1/inquiries/${inquiryId}`, status: 503, times: 3 });
    await expect(run.see(inquiryId, 'approved', 5)).rejects.toBeInstanceOf(OutboundError);
    expect((await run.see(inquiryId, 'approved', 5)).decision?.outcome).toBe('approved');
  });

  it("reads no document of an inquiry the service neither opened nor knows (a stranger's template link)", async () => {
    const run = scenario(defaultRules({ attributeMatch: attributeMatch('review') }));
    const record = await run.see(run.inquiry(OTHER_PERSON), 'approved', 5, { openedByService: false });
    expect(record).toBeNull();
    expect(run.documentReads()).toBe(0);
  });

  it('compares nothing without ATTRIBUTE_MATCH', async () => {
    const run = scenario(defaultRules());
    const record = await run.see(run.inquiry(OTHER_PERSON), 'approved', 5);
    expect(record.decision?.outcome).toBe('approved');
    expect(record.decision).not.toHaveProperty('attribute_match');
    expect(run.documentReads()).toBe(0);
  });
});

describe('applyObserved: the order of delivery', () => {
  it('ends in the decision the rules give whatever the order, each inquiry compared at the approval seen first (400 random histories)', async () => {
    const next = random(17_2026);
    const client = createPersonaClient({
      apiBase: persona.apiBase,
      apiKey: KEY,
      version: '2025-12-08',
      timeoutMs: 2_000,
    });
    for (let trial = 0; trial < 400; trial += 1) {
      const action = (['review', 'decline', 'flag'] as const)[Math.floor(next() * 3)] as MismatchAction;
      const rules = defaultRules({
        statuses: {
          approved: new Set(['approved']),
          declined: new Set(['declined']),
          heldForReview: action === 'review',
        },
        attributeMatch: attributeMatch(action),
      });
      const inquiries = 2 + Math.floor(next() * 3);
      const checks = Array.from({ length: inquiries }, (): Check => (next() < 0.5 ? 'match' : action));
      const ids = checks.map(
        (check, created) =>
          persona.addInquiry({
            referenceId: IDENTITY_ID,
            status: 'approved',
            createdAt: time(created),
            document: check === 'match' ? MATCHING_DOCUMENT : OTHER_PERSON,
          }).id,
      );
      const history = Array.from({ length: 1 + Math.floor(next() * (inquiries + 4)) }, (): HistoryEntry => {
        const inquiry = Math.floor(next() * inquiries);
        const outcome = next() < 0.5 ? 'approved' : 'declined';
        return { inquiry, outcome, second: Math.floor(next() * 12), check: checks[inquiry] as Check };
      });
      // Redeliveries, and the same decisions read again by reconciliation (no event id).
      const order = [...history, ...history.filter(() => next() < 0.3)]
        .map((entry) => ({ entry, fromApi: next() < 0.2 }))
        .sort(() => next() - 0.5);

      let record: PersonaRecord | null = null;
      for (const { entry, fromApi } of order) {
        const decidedAt = time(10 + entry.second);
        const inquiry = {
          id: ids[entry.inquiry] as string,
          status: entry.outcome,
          referenceId: IDENTITY_ID,
          templateId: 'itmpl_A',
          createdAt: time(entry.inquiry),
          openedByService: true,
          decisionedAt: decidedAt,
        };
        const eventId = fromApi ? null : `evt_${trial}_${entry.inquiry}_${entry.outcome}_${entry.second}`;
        const deps = { persona: client, rules, now: () => Date.parse(at(59)) };
        record = (
          await applyObserved(deps, { identity: identity(), record }, { inquiry, observedAt: decidedAt, eventId }, {})
        ).record;
      }
      const actual = record?.decision?.outcome ?? null;
      const expected = oracle(history);
      if (actual !== expected) {
        const delivered = order.map(({ entry, fromApi }) => [entry.inquiry, entry.outcome, entry.second, fromApi]);
        throw new Error(
          `${action}, checks ${JSON.stringify(checks)}, delivered ${JSON.stringify(delivered)}: ${actual}, expected ${expected}`,
        );
      }
    }
  }, 60_000);
});
