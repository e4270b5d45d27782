import type { RateLimitPace } from '../../outbound/rateLimitPace.js';
import type { CallOptions } from '../../outbound/retry.js';
import type { PersonaApi } from '../../persona/personaClient.js';
import type { RedactionPersona } from '../planRedaction.js';

/** The Persona calls the sweeps make. */
export type SweepPersona = RedactionPersona & Pick<PersonaApi, 'getAccount'>;

/**
 * The sweeps' Persona calls, each waiting its turn in Persona's rate window and telling the pace
 * what the answer said of it (rateLimitPace.ts).
 */
export function pacedPersona(persona: SweepPersona, pace: RateLimitPace): SweepPersona {
  const paced =
    <A, R>(call: (argument: A, options?: CallOptions) => Promise<R>) =>
    async (argument: A, options?: CallOptions): Promise<R> => {
      await pace.turn();
      const observe = options?.observe;
      return call(argument, {
        ...options,
        observe: (attempt) => {
          observe?.(attempt);
          pace.observe(attempt);
        },
      });
    };
  return {
    findAccounts: paced((referenceId: string, options) => persona.findAccounts(referenceId, options)),
    listInquiries: paced((query: Parameters<PersonaApi['listInquiries']>[0], options) =>
      persona.listInquiries(query, options),
    ),
    getInquiry: paced((inquiryId: string, options) => persona.getInquiry(inquiryId, options)),
    getAccount: paced((accountId: string, options) => persona.getAccount(accountId, options)),
    redactInquiry: paced((inquiryId: string, options) => persona.redactInquiry(inquiryId, options)),
    redactAccount: paced((accountId: string, options) => persona.redactAccount(accountId, options)),
  };
}
