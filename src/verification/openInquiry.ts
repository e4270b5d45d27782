import { createHash, randomUUID } from 'node:crypto';
import type { TraitMapping } from '../config.js';
import { OutboundError } from '../outbound/outboundError.js';
import type { CallOptions } from '../outbound/retry.js';
import { isCompleteInquiry, serviceNote, type CompleteInquiry } from '../persona/inquiry.js';
import { applyObserved, type ApplyObservedDeps } from './applyObserved.js';
import { prefillFromTraits } from './prefill.js';
import type { Notice } from '../notifications/notice.js';
import { DECIDING_PURPOSES, NOT_STARTED, type PersonaRecord, type Purpose } from './record.js';
import type { RecordStore, UpdateResult } from './recordStore.js';

export interface OpenInquiryDeps extends ApplyObservedDeps {
  store: RecordStore;
  templateId: string;
  prefillFields: readonly TraitMapping[];
}

export interface OpenInquiryRequest {
  identityId: string;
  traits: unknown;
  /** The inquiry this one follows (re-verification, retry); null for the identity's first. */
  previousInquiryId: string | null;
  purpose: Purpose;
  /** Told with the identity's first record (the registration email), never with a later one. */
  welcome?: Notice[];
  /**
   * The record as the caller read it just before (without the lock); absent when it read none
   * (the registration hook: the identity was saved a moment ago).
   */
  recordSeen?: PersonaRecord | null;
}

/** Call options (deadline, observer) for the Persona calls and for the Kratos read and write. */
export interface OpenInquiryBudget {
  persona: CallOptions;
  kratos: CallOptions;
}

export interface OpenedInquiry {
  /** The inquiry the identity now has: the one created, or one found or created first by another request. */
  inquiryId: string | null;
  status: string | null;
  update: UpdateResult;
}

/** How many of the identity's newest inquiries of the template a lookup reads. */
const LOOKUP_PAGE_SIZE = 10;

/**
 * Stable for one identity, template, purpose and predecessor, so every retry of the same step
 * (Kratos calls initiate up to three times; a user may click twice) gets Persona's replay of the
 * first inquiry. The prefill is part of it because Persona refuses a key reused with other
 * parameters.
 */
function idempotencyKeyFor(request: {
  identityId: string;
  templateId: string;
  purpose: Purpose;
  previousInquiryId: string | null;
  fields: object;
}) {
  const material = JSON.stringify([
    request.identityId,
    request.templateId,
    request.purpose,
    request.previousInquiryId,
    request.fields,
  ]);
  return `ory-persona-idv-${createHash('sha256').update(material).digest('hex').slice(0, 40)}`;
}

/** The inquiry a purpose holds: the inquiry in progress for the deciding purposes, else its latest result. */
interface HeldInquiry {
  id: string;
  status: string;
  createdAt: string | null;
}

function heldInquiry(record: PersonaRecord | null, purpose: Purpose): HeldInquiry | undefined {
  if (record === null) return undefined;
  if (DECIDING_PURPOSES.has(purpose)) {
    return record.inquiry_id === null
      ? undefined
      : { id: record.inquiry_id, status: record.status, createdAt: record.created_at };
  }
  const result = record.purposes[purpose];
  return result === undefined
    ? undefined
    : { id: result.inquiry_id, status: result.status, createdAt: result.created_at };
}

/** A create whose answer Persona saved under its key: sent again with that key, it only replays it. */
const keyIsSpent = (error: unknown) => error instanceof OutboundError && error.details.answerStored === true;

/**
 * Creates an inquiry of `purpose` at Persona and records it, so that there is one inquiry per
 * identity and purpose however often Kratos retries the registration hook and the user clicks
 * start:
 * - the create is keyed per identity, template, purpose, predecessor and prefill, and made before
 *   the identity's lock is taken: concurrent requests for one step send one key, and Persona's
 *   idempotency gives them one inquiry, while the section that records it calls nobody but Kratos
 *   (in Postgres mode no pool connection waits on Persona);
 * - in the section, a request that finds the purpose holding an inquiry other than the one it
 *   meant to follow (a concurrent request recorded it first) uses that one;
 * - Persona saves a failed answer under the key and replays it for 24 hours
 *   (https://docs.withpersona.com/reference/idempotence). After such a failure, now or recorded as
 *   `not_started`, the identity's inquiry is looked up (`GET /inquiries` by the account that
 *   carries its reference id, and the template), since the failed request may have created it all
 *   the same; only when there is none is it created again, with a new key. That path runs in the
 *   section: with no key in common, only the lock keeps concurrent requests from creating one each.
 * Only the identity's own verification is prefilled from traits: step-up and recovery templates
 * compare against what the Persona account already holds.
 */
export async function openInquiry(
  deps: OpenInquiryDeps,
  request: OpenInquiryRequest,
  budget: OpenInquiryBudget,
): Promise<OpenedInquiry> {
  const fields = DECIDING_PURPOSES.has(request.purpose) ? prefillFromTraits(request.traits, deps.prefillFields) : {};
  const create = (idempotencyKey: string) =>
    deps.persona.createInquiry(
      {
        templateId: deps.templateId,
        referenceId: request.identityId,
        fields,
        note: serviceNote(request.purpose),
        idempotencyKey,
      },
      budget.persona,
    );
  // Recorded at registration when Persona failed: the key's answer may be a stored failure, and
  // a key of other prefill values would not replay the inquiry that failure may have made.
  const notStarted = DECIDING_PURPOSES.has(request.purpose) && request.recordSeen?.status === NOT_STARTED;
  const created = notStarted
    ? undefined
    : await create(idempotencyKeyFor({ ...request, templateId: deps.templateId, fields })).catch((error: unknown) => {
        if (keyIsSpent(error)) return undefined;
        throw error;
      });

  let opened: { id: string; status: string } | undefined;
  const update = await deps.store.update(
    request.identityId,
    async (current) => {
      const { record } = current;
      const held = heldInquiry(record, request.purpose);
      if (held !== undefined && held.id !== request.previousInquiryId) {
        opened = held;
        return { outcome: 'unchanged', record };
      }
      const inquiry =
        created ??
        (await existingInquiry(deps, request, held, budget.persona)) ??
        (await create(`ory-persona-idv-${randomUUID()}`));
      opened = inquiry;
      // An inquiry found by the lookup may be approved already: its document is compared like any.
      const result = await applyObserved(
        deps,
        current,
        { inquiry, observedAt: inquiry.updatedAt ?? inquiry.createdAt, eventId: null, purpose: request.purpose },
        budget.persona,
      );
      return record === null && request.welcome !== undefined ? { ...result, notices: request.welcome } : result;
    },
    budget.kratos,
  );
  return { inquiryId: opened?.id ?? null, status: opened?.status ?? null, update };
}

/**
 * The identity's newest inquiry of the template that this request may stand for: one this service
 * opened (its note; anybody can open an inquiry with a template link and a guessed reference id),
 * any such for the identity's first, and for a successor one created after the inquiry it follows.
 */
async function existingInquiry(
  deps: OpenInquiryDeps,
  request: OpenInquiryRequest,
  held: HeldInquiry | undefined,
  options: CallOptions,
): Promise<CompleteInquiry | undefined> {
  // Through the account that carries the identity's reference id: the inquiry's own may be null.
  const accountIds = (await deps.persona.findAccounts(request.identityId, options)).map((account) => account.id);
  const { inquiries } = await deps.persona.listInquiries(
    { templateId: deps.templateId, accountIds, pageSize: LOOKUP_PAGE_SIZE },
    options,
  );
  const after =
    held !== undefined && held.id === request.previousInquiryId && held.createdAt !== null
      ? Date.parse(held.createdAt)
      : -Infinity;
  const found = inquiries.find(
    (inquiry) =>
      inquiry.openedByService === true &&
      inquiry.id !== request.previousInquiryId &&
      (inquiry.createdAt === undefined || Date.parse(inquiry.createdAt) > after),
  );
  if (found === undefined) return undefined;
  // Listed by the identity's account and the template: the reference may sit on the account only.
  const complete = { ...found, referenceId: request.identityId, templateId: found.templateId ?? deps.templateId };
  if (!isCompleteInquiry(complete)) throw new OutboundError('persona', 'listInquiries', { kind: 'invalid_response' });
  return complete;
}
