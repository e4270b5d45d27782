import { OutboundError } from '../outbound/outboundError.js';
import type { CallOptions } from '../outbound/retry.js';
import type { Inquiry } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import { ownershipOf, type Ownership } from './ownership.js';

/** The Persona calls redaction makes. */
export type RedactionPersona = Pick<
  PersonaApi,
  'findAccounts' | 'listInquiries' | 'getInquiry' | 'redactInquiry' | 'redactAccount'
>;

export interface RedactionScope {
  identityId: string;
  /** Every template whose inquiries the service accepts (acceptedTemplateIds). */
  templateIds: readonly string[];
  /** The inquiries the identity's record holds (none when the identity is gone). */
  knownInquiryIds: ReadonlySet<string>;
  /**
   * The operator's word that the account goes whole, with what is not ours in it: someone who
   * opened an inquiry with the identity's id as reference must not be able to keep its account alive.
   */
  wholeAccount?: boolean;
}

/** What redacting an identity's Persona data takes, by id only. */
export interface RedactionPlan {
  /** The account of the identity's reference id, redacted whole: it holds nothing but ours. */
  account: string | null;
  /** An account kept because it holds inquiries not ours (`notOurs`): ours in it go one by one. */
  keptAccount: string | null;
  /** Ours, redacted one by one. */
  inquiries: string[];
  /** Ours inside `account`: its redaction takes them along. */
  withAccount: string[];
  alreadyRedacted: string[];
  /** Inquiries of the identity's account or reference id that are not ours: left as they are. */
  notOurs: string[];
}

/** Inquiries per page of Persona's list (its largest). */
const PAGE_SIZE = 100;

async function allPages(
  persona: RedactionPersona,
  query: Parameters<PersonaApi['listInquiries']>[0],
  options: CallOptions,
): Promise<Inquiry[]> {
  const found: Inquiry[] = [];
  let after: string | undefined;
  do {
    const page = await persona.listInquiries({ ...query, after, pageSize: PAGE_SIZE }, options);
    found.push(...page.inquiries);
    after = page.next;
  } while (after !== undefined);
  return found;
}

/**
 * Finds the identity's Persona data: its account (one per reference id), every inquiry in it, the
 * inquiries of our templates under its reference id, and those its record holds. Redacting the
 * account is the thorough way (Persona documents that it reaches every inquiry, verification and
 * report under it, and the account's own fields), but it reaches everything in it: so the account
 * is redacted only when every inquiry in it is ours (or redacted already), or when the operator
 * says so (`wholeAccount`). Otherwise ours are redacted one by one and the account stays, with what
 * is not ours.
 */
export async function planRedaction(
  persona: RedactionPersona,
  scope: RedactionScope,
  options: CallOptions,
): Promise<RedactionPlan> {
  const seen = new Map<string, { ownership: Ownership; accountId: string | undefined }>();
  const note = (inquiry: Inquiry, accountId = inquiry.accountId) => {
    if (!seen.has(inquiry.id)) seen.set(inquiry.id, { ownership: ownershipOf(inquiry, scope), accountId });
  };

  const accounts = (await persona.findAccounts(scope.identityId, options)).filter(
    (account) => account.redactedAt === undefined,
  );
  for (const account of accounts) {
    for (const inquiry of await allPages(persona, { accountIds: [account.id] }, options)) note(inquiry, account.id);
  }
  for (const templateId of scope.templateIds) {
    for (const inquiry of await allPages(persona, { templateId, referenceId: scope.identityId }, options)) {
      note(inquiry);
    }
  }
  // What the record holds that neither list showed (a list lags, or an account was not found).
  for (const id of scope.knownInquiryIds) {
    if (seen.has(id)) continue;
    const inquiry = await persona.getInquiry(id, options).catch((error: unknown) => {
      if (error instanceof OutboundError && error.status === 404) return undefined;
      throw error;
    });
    if (inquiry !== undefined) note(inquiry);
  }

  const idsWhere = (test: (entry: { ownership: Ownership; accountId: string | undefined }) => boolean) =>
    [...seen].filter(([, entry]) => test(entry)).map(([id]) => id);
  const notOurs = idsWhere((entry) => entry.ownership === 'not_ours');
  const whole =
    accounts.find((account) =>
      [...seen.values()].every((entry) => entry.accountId !== account.id || entry.ownership !== 'not_ours'),
    ) ?? (scope.wholeAccount === true ? accounts[0] : undefined);
  const ours = (entry: { ownership: Ownership }) => entry.ownership === 'ours';
  return {
    account: whole?.id ?? null,
    keptAccount: whole === undefined ? (accounts[0]?.id ?? null) : null,
    inquiries: idsWhere((entry) => ours(entry) && (whole === undefined || entry.accountId !== whole.id)),
    withAccount: whole === undefined ? [] : idsWhere((entry) => ours(entry) && entry.accountId === whole.id),
    alreadyRedacted: idsWhere((entry) => entry.ownership === 'redacted'),
    notOurs,
  };
}
