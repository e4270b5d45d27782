import { randomBytes } from 'node:crypto';
import type { DocumentPerson, StandInVerification } from './personaVerifications.js';
import type { Reply } from './standInServer.js';

/** An inquiry as the Persona stand-in keeps it. */
export interface StandInInquiry {
  id: string;
  status: string;
  /** The reference id of the inquiry's account (what `meta.auto-create-account-reference-id` named). */
  referenceId: string | null;
  templateId: string;
  accountId: string;
  createdAt: string;
  updatedAt: string;
  fields: Record<string, unknown>;
  /** Set by the API or the dashboard only; the hosted flow cannot set it. */
  note: string | null;
  /**
   * When the inquiry first reached each timed status, by attribute: `started-at`, `completed-at`,
   * ...; `decisioned-at` is the time of its last approval or decline.
   */
  times: Partial<Record<StatusTime, string>>;
  /** What the user's document says, when a test decided it; otherwise the stand-in's default. */
  document: DocumentPerson | undefined;
  /** The passed government-id verification, once the document was submitted. */
  verification: StandInVerification | null;
  /** When it was redacted: its personal data is gone, its status and times stay. */
  redactedAt: string | null;
}

/** An account as Persona keeps it: the person, under one reference id (reference/persona-api.md). */
export interface StandInAccount {
  id: string;
  referenceId: string | null;
  createdAt: string;
  updatedAt: string;
  redactedAt: string | null;
}

/**
 * Whether inquiry resources carry their account's reference id. Persona's own webhook examples for
 * 2025-12-08 show `"reference-id": null` on inquiries whose reference was set through
 * `meta.auto-create-account-reference-id`, with the reference on the account alone.
 */
export type ReferenceIds = 'echoed' | 'on-account-only';

/** The statuses whose time the inquiry resource carries, and the attribute that carries it. */
const STATUS_TIMES = {
  pending: 'started-at',
  completed: 'completed-at',
  failed: 'failed-at',
  expired: 'expired-at',
  needs_review: 'marked-for-review-at',
  approved: 'decisioned-at',
  declined: 'decisioned-at',
} as const;
type StatusTime = (typeof STATUS_TIMES)[keyof typeof STATUS_TIMES];

/** The attribute that records when an inquiry reached `status`, if Persona records it. */
export const statusTime = (status: string): StatusTime | undefined =>
  Object.hasOwn(STATUS_TIMES, status) ? STATUS_TIMES[status as keyof typeof STATUS_TIMES] : undefined;

/** Persona-style ids: a prefix and letters and digits (`inq_...`, `evt_...`). */
export const randomId = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;

/** Persona's error format: `{"errors": [{"title", "details"}]}`. */
export const personaError = (status: number, title: string, details?: string): Reply => ({
  status,
  body: { errors: [{ title, ...(details !== undefined && { details }) }] },
});

const nothing = { data: null };

/**
 * The inquiry resource with every attribute the 2025-12-08 schema requires, null where it does not
 * apply (a status never reached has no time).
 */
export function inquiryResource(inquiry: StandInInquiry, referenceIds: ReferenceIds) {
  const reached = (attribute: StatusTime) => inquiry.times[attribute] ?? null;
  return {
    type: 'inquiry',
    id: inquiry.id,
    attributes: {
      status: inquiry.status,
      'reference-id': referenceIds === 'echoed' ? inquiry.referenceId : null,
      note: inquiry.note,
      behaviors: {},
      tags: [],
      creator: 'API',
      'reviewer-comment': null,
      'created-at': inquiry.createdAt,
      'updated-at': inquiry.updatedAt,
      'started-at': reached('started-at'),
      'expires-at': null,
      'completed-at': reached('completed-at'),
      'failed-at': reached('failed-at'),
      'marked-for-review-at': reached('marked-for-review-at'),
      'decisioned-at': reached('decisioned-at'),
      'expired-at': reached('expired-at'),
      'redacted-at': inquiry.redactedAt,
      'previous-step-name': null,
      'next-step-name': null,
      fields: Object.fromEntries(
        Object.entries(inquiry.fields).map(([key, value]) => [key, { type: 'string', value }]),
      ),
    },
    relationships: {
      account: { data: { type: 'account', id: inquiry.accountId } },
      template: nothing,
      'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.templateId } },
      reviewer: nothing,
      reports: { data: [] },
      verifications: {
        data:
          inquiry.verification === null ? [] : [{ type: 'verification/government-id', id: inquiry.verification.id }],
      },
      sessions: { data: [] },
      documents: { data: [] },
      selfies: { data: [] },
    },
  };
}

export function accountResource(account: StandInAccount) {
  return {
    type: 'account',
    id: account.id,
    attributes: {
      'reference-id': account.referenceId,
      'account-type-name': 'User',
      'created-at': account.createdAt,
      'updated-at': account.updatedAt,
      'redacted-at': account.redactedAt,
      fields: {},
      tags: [],
    },
  };
}
