import type { Config } from '../config.js';
import { CallLimiter, type CallLimit } from '../outbound/callLimiter.js';
import type { CallOptions } from '../outbound/retry.js';
import { EntryCache } from '../persona/entryCache.js';
import type { PersonaApi } from '../persona/personaClient.js';
import {
  credentialKind,
  entryInto,
  requestEntryCredential,
  type EntryCredential,
  type EntryStep,
  type PersonaEntry,
} from '../persona/personaEntry.js';
import { tooManyRequests } from './httpError.js';

/**
 * Persona allows about 300 calls a minute per environment, shared by every registration
 * (reference/persona-api.md): one user reloading /persona/start must not use them up. Each identity
 * gets five calls at once, then one a minute.
 */
export const PERSONA_CALLS_PER_IDENTITY: CallLimit = { burst: 5, refillMs: 60_000, maxKeys: 100_000 };

/**
 * A one-time link is single use with five minutes' grace (reference/persona-api.md), and valid for
 * ONE_TIME_LINK_EXPIRY_SECONDS (15 minutes): handed out again for four minutes after it was made,
 * it still opens for everyone it was given to. Session tokens from a resume are kept as long.
 */
export const ENTRY_REUSE_MS = 4 * 60_000;
const ENTRIES_KEPT = 10_000;

/**
 * The way users of /persona/start and /persona/status enter Persona, at a bounded cost: a pending
 * inquiry's link or token is reused while it is valid, and the Persona calls an identity causes
 * are rate limited (429 with Retry-After). In process: each replica has its own cache and limits.
 */
export class PersonaEntries {
  private readonly limiter = new CallLimiter(PERSONA_CALLS_PER_IDENTITY);
  private readonly credentials = new EntryCache<EntryCredential>({ ttlMs: ENTRY_REUSE_MS, maxEntries: ENTRIES_KEPT });

  constructor(
    private readonly persona: PersonaApi,
    private readonly flow: Pick<Config['persona'], 'hostedFlowUrl' | 'inquiryType'>,
    private readonly now: () => number,
  ) {}

  /** Spends one of the identity's Persona calls, or refuses with 429 and when to try again. */
  spendCall(identityId: string): void {
    const permit = this.limiter.take(identityId, this.now());
    if (permit.allowed) return;
    throw tooManyRequests(permit.retryAfterMs, 'too many Persona calls for this identity');
  }

  async enter(
    identityId: string,
    step: EntryStep,
    redirectUri: string | undefined,
    callOptions: CallOptions,
  ): Promise<PersonaEntry> {
    if (step.kind === 'open') return entryInto(this.flow, step, redirectUri, undefined);
    const credential = await this.credentials.get(
      `${step.inquiryId} ${credentialKind(this.flow, step)}`,
      this.now(),
      async () => {
        this.spendCall(identityId);
        return requestEntryCredential(this.persona, this.flow, step, callOptions);
      },
    );
    return entryInto(this.flow, step, redirectUri, credential);
  }
}
