import { failureOutcome } from '../admin/audit/auditLog.js';
import { OutboundError } from '../outbound/outboundError.js';
import type { CallOptions } from '../outbound/retry.js';
import type { RecordStore } from '../verification/recordStore.js';
import { planRedaction, type RedactionPersona, type RedactionPlan } from './planRedaction.js';
import type { RedactionAudit, RedactionTrigger } from './redactionAudit.js';
import { forgetRefusal, inquiriesOf, withRedacted, withVerificationForgotten } from './redactionRecord.js';

export interface RedactionDeps {
  persona: RedactionPersona;
  store: RecordStore;
  /** Every template whose inquiries the service accepts (acceptedTemplateIds). */
  templateIds: readonly string[];
  audit: RedactionAudit;
  now: () => number;
}

export interface IdentityRedactionRequest {
  identityId: string;
  /** The operator's handle, or the sweep's name. */
  actor: string;
  trigger: Extract<RedactionTrigger, 'request' | 'identity_deleted'>;
  /** Forget the standing decision too (withVerificationForgotten says what goes). */
  forgetDecision: boolean;
  /** Redact the account whole even when it holds inquiries not ours (planRedaction.ts). */
  wholeAccount?: boolean;
  /** Find what would be redacted, change nothing. */
  dryRun: boolean;
}

/** What a redaction of an identity did, or would do (`dry_run`): ids only. */
export interface IdentityRedaction {
  identity_id: string;
  dry_run: boolean;
  /**
   * Whether Kratos has the identity (a deleted one has no record to note it on). The deletion sweep
   * redacts nothing of an identity Kratos has again by the time it redacts.
   */
  identity_found: boolean;
  /**
   * The Persona account of the identity's reference id: redacted whole (with every inquiry in it)
   * when it holds nothing but ours, kept otherwise; null when there is none.
   */
  account: { id: string; redacted: boolean } | null;
  /** Ours, redacted one by one. */
  redacted_inquiries: string[];
  /** Ours in the account, redacted with it. */
  redacted_with_account: string[];
  already_redacted: string[];
  /**
   * In the identity's account or under its reference id, not ours: left as they are, unless the
   * operator had the account redacted whole (then those in it went with it).
   */
  not_ours: string[];
  /** Whether the record on the identity now says what was redacted. */
  record_updated: boolean;
  decision_forgotten: boolean;
}

const REFUSALS = {
  record_unreadable: "the identity's record cannot be interpreted; fix or remove metadata_admin.persona first",
  decline_kept:
    'the standing decision is a decline (or held for review), which forgetting would lift: a redacted decline ' +
    'still blocks; redact without forgetting',
  decision_pending:
    'the inquiry in progress is not decided yet, and forgetting would ignore its decline; redact without ' +
    'forgetting, or forget once Persona has decided it',
} as const;

/** Redaction cannot start: the record cannot be interpreted, or forgetting would lift a decline or ignore one to come. */
export class RedactionRefused extends Error {
  constructor(readonly reason: keyof typeof REFUSALS) {
    super(REFUSALS[reason]);
    this.name = 'RedactionRefused';
  }
}

/**
 * The identity's Kratos side: whether it exists, and the inquiries its record holds. Forgetting is
 * refused before anything is redacted when it would lift a decline or ignore one to come (forgetRefusal).
 */
async function identitySide(store: RecordStore, request: IdentityRedactionRequest, options: CallOptions) {
  const stored = await store.read(request.identityId, options);
  if (!stored.found) return { found: false, known: new Set<string>() };
  if (stored.reading.kind === 'unreadable') throw new RedactionRefused('record_unreadable');
  const record = stored.reading.kind === 'record' ? stored.reading.record : null;
  const refusal = request.forgetDecision && record !== null ? forgetRefusal(record) : null;
  if (refusal !== null) throw new RedactionRefused(refusal);
  return { found: true, known: new Set(record === null ? [] : inquiriesOf(record)) };
}

/**
 * Redacts an identity's Persona data (planRedaction.ts says what is taken): the account whole or
 * each inquiry of ours, then notes it on the record, which keeps ids, statuses, times and the
 * standing decision (a redacted decline still blocks) unless the operator has it forgotten. The
 * record is written only once Persona has redacted: a failure stops the run, records what was
 * done, and is thrown; asked again, what is redacted already is passed over, so a retry finishes
 * the work. An identity Kratos no longer has (the deletion sweep, or Ory Network's identity
 * deleted events) is redacted by what the service's note tells alone.
 */
export async function redactIdentity(
  deps: RedactionDeps,
  request: IdentityRedactionRequest,
  options: CallOptions,
): Promise<IdentityRedaction> {
  const audit = (
    outcome: string,
    plan: RedactionPlan | undefined,
    done: string[],
    accountDone: boolean,
    forgotten = false,
  ) =>
    deps.audit({
      actor: request.actor,
      trigger: request.trigger,
      identityId: request.identityId,
      outcome,
      accountId: accountDone ? (plan?.account ?? null) : null,
      inquiryIds: done,
      dryRun: request.dryRun,
      decisionForgotten: forgotten,
    });

  let side;
  try {
    side = await identitySide(deps.store, request, options);
  } catch (error) {
    await audit(error instanceof RedactionRefused ? 'refused' : failureOutcome(error), undefined, [], false);
    throw error;
  }
  if (request.trigger === 'identity_deleted' && side.found) {
    await audit('identity_exists', undefined, [], false);
    return { ...nothingFor(request), identity_found: true };
  }
  let plan: RedactionPlan;
  try {
    plan = await planRedaction(
      deps.persona,
      {
        identityId: request.identityId,
        templateIds: deps.templateIds,
        knownInquiryIds: side.known,
        wholeAccount: request.wholeAccount,
      },
      options,
    );
  } catch (error) {
    await audit(failureOutcome(error), undefined, [], false);
    throw error;
  }
  const answer = (done: { recordUpdated: boolean; forgotten: boolean }): IdentityRedaction => ({
    ...nothingFor(request),
    identity_found: side.found,
    account:
      plan.account !== null
        ? { id: plan.account, redacted: true }
        : plan.keptAccount !== null
          ? { id: plan.keptAccount, redacted: false }
          : null,
    redacted_inquiries: plan.inquiries,
    redacted_with_account: plan.withAccount,
    already_redacted: plan.alreadyRedacted,
    not_ours: plan.notOurs,
    record_updated: done.recordUpdated,
    decision_forgotten: done.forgotten,
  });
  if (request.dryRun) {
    await audit('dry_run', plan, [...plan.withAccount, ...plan.inquiries], plan.account !== null);
    return answer({ recordUpdated: false, forgotten: false });
  }

  const done: string[] = [];
  let accountDone = false;
  try {
    if (plan.account !== null) {
      await deps.persona.redactAccount(plan.account, options);
      accountDone = true;
      done.push(...plan.withAccount);
    }
    for (const inquiryId of plan.inquiries) {
      await deps.persona.redactInquiry(inquiryId, options);
      done.push(inquiryId);
    }
  } catch (error) {
    await noteOnRecord(deps, request, side.found, { done, accountDone, forget: false }, options).catch(() => undefined);
    // Persona refusing is `failed`; a call that timed out or broke off may have redacted (outcome unknown).
    const mayHaveLanded = !(error instanceof OutboundError) || error.outcomeUnknown;
    const outcome = done.length > 0 || accountDone ? 'partial' : mayHaveLanded ? 'outcome_unknown' : 'failed';
    await audit(outcome, plan, done, accountDone);
    throw error;
  }
  let noted;
  try {
    noted = await noteOnRecord(
      deps,
      request,
      side.found,
      { done: [...done, ...plan.alreadyRedacted], accountDone, forget: request.forgetDecision },
      options,
    );
  } catch (error) {
    // Redacted at Persona, not (or not surely) noted on the record: the same request notes it.
    await audit(done.length > 0 || accountDone ? 'partial' : 'outcome_unknown', plan, done, accountDone);
    throw error;
  }
  await audit('ok', plan, done, accountDone, noted.forgotten);
  return answer(noted);
}

const nothingFor = (request: IdentityRedactionRequest): IdentityRedaction => ({
  identity_id: request.identityId,
  dry_run: request.dryRun,
  identity_found: false,
  account: null,
  redacted_inquiries: [],
  redacted_with_account: [],
  already_redacted: [],
  not_ours: [],
  record_updated: false,
  decision_forgotten: false,
});

/** Notes on the record what is redacted now; with `forget`, forgets the verification as well. */
async function noteOnRecord(
  deps: RedactionDeps,
  request: IdentityRedactionRequest,
  identityFound: boolean,
  what: { done: string[]; accountDone: boolean; forget: boolean },
  options: CallOptions,
): Promise<{ recordUpdated: boolean; forgotten: boolean }> {
  if (!identityFound) return { recordUpdated: false, forgotten: false };
  const at = new Date(deps.now()).toISOString();
  let forgotten = false;
  const result = await deps.store.update(
    request.identityId,
    ({ record }) => {
      if (record === null) return { outcome: 'unchanged', record };
      const known = new Set(inquiriesOf(record));
      let next = withRedacted(record, {
        inquiryIds: what.done.filter((id) => known.has(id)),
        account: what.accountDone,
        at,
      });
      // Checked again under the lock: a decline, or an inquiry opened, since the request is kept too.
      if (what.forget && forgetRefusal(next) === null) {
        next = withVerificationForgotten(next, at);
        forgotten = true;
      }
      return next === record ? { outcome: 'unchanged', record } : { outcome: 'applied', record: next };
    },
    options,
  );
  return { recordUpdated: result.outcome === 'applied', forgotten: result.outcome === 'applied' && forgotten };
}
