import type { AttributeMatch } from '../matching/attributeMatch.js';
import type { ReverificationRequirement } from './reverification.js';

/**
 * `metadata_admin.persona`, the source of truth (product.md, "The record on the identity"). Ids,
 * statuses and Persona times only: never names, birthdates, documents, payloads or error bodies.
 *
 * The first fields describe the inquiry in progress, exactly as version 1 of the record did. The
 * standing decision is kept apart from it (`decision`), so that a new inquiry, whoever opened it,
 * never lifts a decline by merely existing (issue "Decisions that hold").
 */

/** The record version this code writes; records without `version` are version 1. */
export const RECORD_VERSION = 2;

/** The status of a record whose inquiry could not be created yet; `/persona/start` creates it later. */
export const NOT_STARTED = 'not_started';

/** How many earlier inquiries `history` keeps: enough to audit, small enough for identity metadata. */
export const HISTORY_LIMIT = 5;

/** Why an inquiry was opened. Each keeps its own latest result on the record. */
export const PURPOSES = ['onboarding', 'reverification', 'step_up', 'recovery'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** The purposes whose decisions make the identity's standing decision. */
export const DECIDING_PURPOSES: ReadonlySet<Purpose> = new Set(['onboarding', 'reverification']);

/** What a Persona status decides. */
export type Outcome = 'approved' | 'declined';
/**
 * What a decision counts as: Persona's outcome, or, for an approval whose verified document did
 * not match the traits (ATTRIBUTE_MISMATCH_ACTION), `needs_review` or `declined`.
 */
export type DecisionOutcome = Outcome | 'needs_review';

/** Which Persona statuses are decisions (PERSONA_APPROVED_STATUSES, PERSONA_DECLINED_STATUSES). */
export interface DecisionStatuses {
  approved: ReadonlySet<string>;
  declined: ReadonlySet<string>;
  /**
   * Whether an approval may count as `needs_review` (ATTRIBUTE_MATCH with ATTRIBUTE_MISMATCH_ACTION
   * review): the decisions then keep what such a review would otherwise uncover.
   */
  heldForReview?: boolean;
}

export function outcomeOf(status: string, statuses: DecisionStatuses): Outcome | null {
  if (statuses.declined.has(status)) return 'declined';
  if (statuses.approved.has(status)) return 'approved';
  return null;
}

/** A decision of one inquiry: which, how and when (Persona time). */
export interface Decision {
  outcome: DecisionOutcome;
  /** The Persona status that decided it (`approved`, `declined` or a configured equivalent). */
  status: string;
  /** Null only for a decision read from a record that did not name its inquiry. */
  inquiry_id: string | null;
  /** Null when unknown; for inquiries of a version 1 record's history, a time known to be later. */
  inquiry_created_at: string | null;
  /**
   * When Persona made it (the inquiry's `decisioned-at`, else the time it was seen); null only for
   * a decision read from a record that did not say when.
   */
  decided_at: string | null;
  purpose: Purpose;
  /** How the inquiry's verified document compared with the traits (ATTRIBUTE_MATCH); absent when it was not compared. */
  attribute_match?: AttributeMatch;
}

/** The latest inquiry of one purpose and where it stands. */
export interface PurposeResult {
  inquiry_id: string;
  status: string;
  created_at: string | null;
  updated_at: string | null;
  decided_at: string | null;
  /** What `status` decided (PERSONA_APPROVED_STATUSES, PERSONA_DECLINED_STATUSES); null while undecided. */
  outcome: Outcome | null;
}

/** The purposes whose approval proves, for step-up, that the person is still the one verified. */
export const STEP_UP_PURPOSES = ['step_up', 'recovery'] as const satisfies readonly Purpose[];

/**
 * The recovery code this service had Kratos create (`/persona/recover`), once per recovery: no
 * code for this inquiry again, nor for one created before it. The code itself is never stored.
 */
export interface RecoveryCodeIssued {
  inquiry_id: string;
  /** The inquiry's Persona `created-at`; null in a record written before it was kept (issued_at bounds it). */
  inquiry_created_at: string | null;
  /**
   * When Persona approved the inquiry: a fresh verification for step-up, even after a newer
   * recovery inquiry (anyone can open one with the identifier) took `purposes.recovery`. Null in
   * a record written before it was kept.
   */
  decided_at: string | null;
  issued_at: string;
  second_factors_removed: boolean;
}

export interface HistoryEntry {
  inquiry_id: string;
  status: string;
  decided_at: string | null;
  purpose?: Purpose;
}

/** Account actions that must still run for the standing decision (ON_DECLINE). */
export type PendingAction = 'revoke_sessions';

export interface AccountActions {
  /** Set while this service holds the identity inactive; only then does an approval reactivate it. */
  deactivated_at: string | null;
  sessions_revoked_at: string | null;
  /** Written with the decision, cleared once done: a failure is repeated by redelivery or reconciliation. */
  pending: PendingAction[];
}

/**
 * What became of the identity's data at Persona (README, "Privacy"): ids and times only. The
 * decisions stay as they were: a redacted decline still blocks, unless the verification was
 * forgotten on request.
 */
export interface RedactionState {
  /** When Persona's data of the identity was last redacted, as far as this service knows. */
  redacted_at: string;
  /** When the Persona account of the identity's reference id was redacted, and every inquiry under it. */
  account_redacted_at: string | null;
  /** The redacted inquiries, newest first (at most REDACTED_INQUIRIES_LIMIT). */
  inquiries: { inquiry_id: string; redacted_at: string }[];
  /**
   * The operator had the verification forgotten: when, and the inquiries whose decisions went with
   * it. Their events count for nothing from then on, so a late redelivery cannot bring a decision back.
   */
  forgotten: { at: string; inquiry_ids: string[] } | null;
}

/** Enough for every inquiry a record holds (history, decisions, purposes), small enough for metadata. */
export const REDACTED_INQUIRIES_LIMIT = 20;

/** Whether the operator had this inquiry's decision forgotten (RedactionState.forgotten). */
export const isForgotten = (record: PersonaRecord, inquiryId: string): boolean =>
  record.redaction?.forgotten?.inquiry_ids.includes(inquiryId) === true;

/** Whether the record knows this inquiry was redacted at Persona. */
export const isRedacted = (record: PersonaRecord, inquiryId: string): boolean =>
  record.redaction?.inquiries.some((entry) => entry.inquiry_id === inquiryId) === true;

export interface PersonaRecord {
  version: typeof RECORD_VERSION;
  inquiry_id: string | null;
  /** A Persona status, or `not_started`. */
  status: string;
  template_id: string | null;
  created_at: string | null;
  updated_at: string | null;
  decided_at: string | null;
  last_event_id: string | null;
  history: HistoryEntry[];
  /** Why the inquiry in progress was opened. */
  purpose: Purpose | null;
  /** The identity's standing decision (standingDecision.ts), derived from `decisions`. */
  decision: Decision | null;
  /** The latest decision of each deciding inquiry that can still matter. */
  decisions: Decision[];
  purposes: Partial<Record<Purpose, PurposeResult>>;
  actions: AccountActions;
  /** The last recovery by verification; null when there was none. */
  recovery_code: RecoveryCodeIssued | null;
  /** An operator's requirement to verify again (reverification.ts); null when none stands. */
  reverification: ReverificationRequirement | null;
  /** What was redacted at Persona; null while nothing was. */
  redaction: RedactionState | null;
}

export const noActions = (): AccountActions => ({ deactivated_at: null, sessions_revoked_at: null, pending: [] });

export function emptyRecord(): PersonaRecord {
  return {
    version: RECORD_VERSION,
    inquiry_id: null,
    status: NOT_STARTED,
    template_id: null,
    created_at: null,
    updated_at: null,
    decided_at: null,
    last_event_id: null,
    history: [],
    purpose: null,
    decision: null,
    decisions: [],
    purposes: {},
    actions: noActions(),
    recovery_code: null,
    reverification: null,
    redaction: null,
  };
}

export function notStartedRecord(templateId: string): PersonaRecord {
  return { ...emptyRecord(), template_id: templateId, purpose: 'onboarding' };
}

/**
 * `metadata_public.persona`: what the login gate and the UI may read without an admin call. While
 * a decision stands, `status` is that decision's status, even when a newer inquiry is in progress
 * (`inquiry_status`); without one, it is the inquiry's status.
 */
export interface PublicMirror {
  status: string;
  verified_at: string | null;
  inquiry_status: string;
  /**
   * `decided_at` of the latest approved step-up or recovery inquiry, or of the recovery a code was
   * issued for: what the settings gate needs.
   */
  step_up_verified_at: string | null;
  /** An operator requires a new verification before the next login (ReverificationRequirement.block_login). */
  reverification_required: boolean;
}

/** The latest approval among the step-up purposes' results and the recovery code's, by Persona time; null when none. */
function latestStepUpApproval(record: PersonaRecord): string | null {
  const approvals = [
    ...STEP_UP_PURPOSES.map((purpose) => record.purposes[purpose])
      .filter((result) => result?.outcome === 'approved')
      .map((result) => result?.decided_at ?? null),
    record.recovery_code?.decided_at ?? null,
  ];
  let latest: string | null = null;
  for (const time of approvals) {
    if (time !== null && (latest === null || Date.parse(time) > Date.parse(latest))) latest = time;
  }
  return latest;
}

/**
 * The status a decision stands as: Persona's, unless the attribute comparison made the approval a
 * review or a decline, which stand as Persona's statuses of that name (the configuration makes sure
 * the login gate reads them so).
 */
function standingStatus(decision: Decision): string {
  if (decision.outcome === 'needs_review') return 'needs_review';
  const declinedByComparison =
    decision.attribute_match?.on_mismatch === 'decline' && decision.attribute_match.outcome !== 'match';
  return decision.outcome === 'declined' && declinedByComparison ? 'declined' : decision.status;
}

export function mirrorOf(record: PersonaRecord): PublicMirror {
  const { decision } = record;
  return {
    status: decision === null ? record.status : standingStatus(decision),
    verified_at: decision?.outcome === 'approved' ? decision.decided_at : null,
    inquiry_status: record.status,
    step_up_verified_at: latestStepUpApproval(record),
    reverification_required: record.reverification?.block_login === true,
  };
}

/**
 * The mirror as the login gate receives it (the Jsonnet sends `metadata_public.persona`), read
 * without an admin call. Undefined when it is absent or not a mirror; `fromVersion1` when it was
 * written by version 1, which kept no standing decision apart from the inquiry in progress.
 */
export function readMirror(value: unknown): (PublicMirror & { fromVersion1: boolean }) | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const {
    status,
    verified_at: verifiedAt,
    inquiry_status: inquiryStatus,
    step_up_verified_at: stepUpVerifiedAt,
    reverification_required: reverificationRequired,
  } = value as Record<string, unknown>;
  if (typeof status !== 'string' || status === '') return undefined;
  if (verifiedAt !== undefined && verifiedAt !== null && typeof verifiedAt !== 'string') return undefined;
  if (inquiryStatus !== undefined && typeof inquiryStatus !== 'string') return undefined;
  // Mirrors written before the admin API have none; anything but a boolean is not our mirror.
  if (reverificationRequired !== undefined && typeof reverificationRequired !== 'boolean') return undefined;
  return {
    status,
    verified_at: verifiedAt ?? null,
    inquiry_status: inquiryStatus ?? status,
    // Mirrors written before step-up existed have none: no step-up approval counts (fail safe).
    step_up_verified_at: typeof stepUpVerifiedAt === 'string' ? stepUpVerifiedAt : null,
    reverification_required: reverificationRequired === true,
    fromVersion1: inquiryStatus === undefined,
  };
}
