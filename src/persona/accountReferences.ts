import type { CallOptions } from '../outbound/retry.js';
import type { Inquiry } from './inquiry.js';
import type { PersonaApi } from './personaClient.js';

/**
 * How many accounts' reference ids are remembered. A reference id is set when Persona creates the
 * account (`meta.auto-create-account-reference-id`) and changes only if an operator edits the
 * account in Persona, so a remembered one stays right (a restart forgets them all); the bound keeps
 * memory flat however many identities there are. The least recently used goes first.
 */
const REMEMBERED_ACCOUNTS = 10_000;

export interface AccountReferences {
  /**
   * The reference id an inquiry belongs to: its own, or, when it has none but names an account,
   * the account's. Persona's webhook examples for 2025-12-08 show `"reference-id": null` on
   * inquiries created with `meta.auto-create-account-reference-id`, the account carrying it.
   * Undefined when the inquiry does not say and has no account.
   */
  referenceIdOf(inquiry: Inquiry, options: CallOptions): Promise<string | null | undefined>;
}

export function createAccountReferences(
  persona: Pick<PersonaApi, 'getAccount'>,
  limit = REMEMBERED_ACCOUNTS,
): AccountReferences {
  // Lookups under way are shared, so a burst of events of one account makes one call.
  const known = new Map<string, Promise<string | null>>();

  const accountReference = (accountId: string, options: CallOptions) => {
    const remembered = known.get(accountId);
    if (remembered !== undefined) {
      // Most recently used last: Map keeps insertion order.
      known.delete(accountId);
      known.set(accountId, remembered);
      return remembered;
    }
    const lookup = persona.getAccount(accountId, options).then((account) => account.referenceId);
    known.set(accountId, lookup);
    // A failed lookup is not remembered: the next event asks again.
    lookup.catch(() => known.get(accountId) === lookup && known.delete(accountId));
    if (known.size > limit) known.delete(known.keys().next().value as string);
    return lookup;
  };

  return {
    async referenceIdOf(inquiry, options) {
      if (typeof inquiry.referenceId === 'string' || inquiry.accountId === undefined) return inquiry.referenceId;
      return accountReference(inquiry.accountId, options);
    },
  };
}
