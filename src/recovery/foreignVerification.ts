import type { CallOptions } from '../outbound/retry.js';
import type { Inquiry } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { PersonaRecord } from '../verification/record.js';

/** Pages of one template's inquiries read at most; an account holding more is not decided on. */
const MAX_PAGES = 3;
const PAGE_SIZE = 100;

/** The inquiries the record holds: ours, even those opened before inquiries carried the service's note. */
function heldInquiryIds(record: PersonaRecord): Set<string> {
  return new Set([
    ...(record.inquiry_id === null ? [] : [record.inquiry_id]),
    ...record.history.map((entry) => entry.inquiry_id),
    ...record.decisions.flatMap((decision) => (decision.inquiry_id === null ? [] : [decision.inquiry_id])),
    ...Object.values(record.purposes).map((result) => result.inquiry_id),
  ]);
}

/** The inquiries of the service's templates on an identity's Persona account. */
export interface AccountInquiries {
  inquiries: Inquiry[];
  /** False when the account held more than the pages read. */
  complete: boolean;
}

/**
 * Reads the inquiries of the service's templates on the identity's Persona account (the account
 * that carries its reference id, whatever the inquiries' own reference ids say), before the
 * identity's section: the section calls nobody but Kratos, so no pool connection waits on Persona.
 */
export async function readAccountInquiries(
  persona: PersonaApi,
  templateIds: readonly string[],
  identityId: string,
  options: CallOptions,
): Promise<AccountInquiries> {
  const inquiries: Inquiry[] = [];
  const accountIds = (await persona.findAccounts(identityId, options)).map((account) => account.id);
  for (const templateId of templateIds) {
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await persona.listInquiries({ templateId, accountIds, pageSize: PAGE_SIZE, after }, options);
      inquiries.push(...page.inquiries);
      after = page.next;
      pages += 1;
    } while (after !== undefined && pages < MAX_PAGES);
    if (after !== undefined) return { inquiries, complete: false };
  }
  return { inquiries, complete: true };
}

/**
 * Whether the identity's Persona account holds an inquiry of one of the service's templates that
 * the service did not open (no note of its own, which Persona's hosted flow cannot set; not held
 * by the record) and that went past `created`. Anyone who knows the identity id (no secret) can
 * open one with a template link and their own documents; a recovery template that compares the
 * person with the account's latest verification would then compare them with that stranger. A
 * recovery is refused while one is there (README, "Recovery by verification"). Fail safe: an
 * account with more inquiries than the pages read counts as holding one.
 */
export function holdsForeignVerification(account: AccountInquiries, record: PersonaRecord): boolean {
  if (!account.complete) return true;
  const held = heldInquiryIds(record);
  return account.inquiries.some(
    (inquiry) => inquiry.openedByService !== true && !held.has(inquiry.id) && inquiry.status !== 'created',
  );
}
