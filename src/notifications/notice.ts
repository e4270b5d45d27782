import type { Purpose } from '../verification/record.js';
import type { EventType } from './eventTypes.js';

/** The emails this service sends the person (README, "Email to the person"). */
export const EMAIL_TEMPLATES = ['registration', 'verification_required', 'reverification_required'] as const;
export type EmailTemplate = (typeof EMAIL_TEMPLATES)[number];

/** An email to the identity's address, which is read from Kratos only when it is sent. */
export interface EmailRequest {
  template: EmailTemplate;
  /** The person's Accept-Language, for the language of the email; null for the default. */
  language: string | null;
  /** Where the link in it returns to, already checked against RETURN_TO_ALLOWLIST; null for the default. */
  returnTo: string | null;
}

/**
 * What a change of the record asks to tell beyond what the record itself shows (changeEvents.ts):
 * an event of another room (`recovery.completed` when a recovery code was issued,
 * `verification.mismatch`, `verification.reverification_required`), or an email to the person.
 * A change returns its notices with its record (`TransitionResult.notices`), and they are written
 * with it: in Postgres mode in the same transaction.
 */
export type Notice =
  | {
      kind: 'event';
      type: EventType;
      /** When it happened: a Persona time where there is one. */
      timestamp: string;
      inquiryId: string | null;
      purpose: Purpose | null;
      status: string | null;
    }
  | { kind: 'email'; email: EmailRequest };

/** An event notice, for the rooms that have something to tell (step-up and recovery, admin, matching). */
export const eventNotice = (
  type: EventType,
  timestamp: string,
  about: { inquiryId?: string | null; purpose?: Purpose | null; status?: string | null } = {},
): Notice => ({
  kind: 'event',
  type,
  timestamp,
  inquiryId: about.inquiryId ?? null,
  purpose: about.purpose ?? null,
  status: about.status ?? null,
});
