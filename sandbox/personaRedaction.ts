import type { StandInAccount, StandInInquiry } from './personaResources.js';

/**
 * What Persona's redaction removes (its 2025-12-08 document, `DELETE /inquiries/{inquiry-id}`,
 * `DELETE /accounts/{account-id}` and the `inquiry.redacted` webhook): every field's value, the
 * note, the tags and what the documents say; the id, status and times stay, and `redacted-at` is
 * set. An inquiry's reference id goes only with its account's ("`reference-id` is `null` only when
 * the parent Account is also redacted").
 */
export function redactInquiry(inquiry: StandInInquiry, at: string, withAccount: boolean): void {
  inquiry.fields = Object.fromEntries(Object.keys(inquiry.fields).map((field) => [field, null]));
  inquiry.note = null;
  const nobody = { 'name-first': null, 'name-middle': null, 'name-last': null, birthdate: null };
  inquiry.document = nobody;
  if (inquiry.verification !== null) inquiry.verification.person = nobody;
  if (withAccount) inquiry.referenceId = null;
  inquiry.redactedAt = at;
  inquiry.updatedAt = at;
}

/**
 * An account's redaction reaches every inquiry under it ("Permanently deletes personally
 * identifiable information (PII) for an Account and all associated Inquiries"), whose reference
 * ids go. The account keeps its own, as the document's `account.redacted` example shows, and stays
 * the account of that reference id ("An account is still updatable after redaction"). Returns the
 * inquiries it redacted now (not those redacted before).
 */
export function redactAccount(account: StandInAccount, inquiries: StandInInquiry[], at: string): StandInInquiry[] {
  const redactedNow: StandInInquiry[] = [];
  for (const inquiry of inquiries.filter((candidate) => candidate.accountId === account.id)) {
    if (inquiry.redactedAt === null) {
      redactInquiry(inquiry, at, true);
      redactedNow.push(inquiry);
    } else inquiry.referenceId = null;
  }
  account.redactedAt = at;
  account.updatedAt = at;
  return redactedNow;
}
