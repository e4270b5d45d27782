import type { Inquiry } from '../persona/inquiry.js';

/** What a Persona inquiry of an identity's reference id is to this service. */
export type Ownership = 'ours' | 'redacted' | 'not_ours';

/**
 * Only what is ours is redacted: inquiries of our templates that this service opened (its note,
 * see inquiry.ts) or that the identity's record holds. Anybody who can start a template can open
 * an inquiry with an identity's id as reference (it lands in the same Persona account), and other
 * apps may use the same Persona environment: their inquiries are another person's data, or
 * another app's, and possibly evidence of an attempt to pass as this person.
 */
export function ownershipOf(
  inquiry: Inquiry,
  scope: { templateIds: readonly string[]; knownInquiryIds: ReadonlySet<string> },
): Ownership {
  if (inquiry.redactedAt !== undefined) return 'redacted';
  const ourTemplate = inquiry.templateId !== undefined && scope.templateIds.includes(inquiry.templateId);
  return ourTemplate && (inquiry.openedByService === true || scope.knownInquiryIds.has(inquiry.id))
    ? 'ours'
    : 'not_ours';
}
