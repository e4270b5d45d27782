import { CallLimiter, type CallLimit, type CallPermit } from '../outbound/callLimiter.js';
import { normalisedIdentifier } from './normalisedIdentifier.js';

/**
 * Recoveries started for one identifier: three at once, then one a minute. Each opens an inquiry
 * in the Persona account of the identity it names, so a stranger repeating the owner's email
 * address must not fill that account, nor spend everyone's RECOVERY_INQUIRIES_PER_MINUTE.
 */
export const RECOVERIES_PER_IDENTIFIER: CallLimit = { burst: 3, refillMs: 60_000, maxKeys: 10_000 };

/**
 * How many recoveries may be started, per identifier and by everyone together (each spends one of
 * Persona's inquiry creations, a quota of the whole environment). In process: per replica.
 */
export class RecoveryStarts {
  private readonly perIdentifier = new CallLimiter(RECOVERIES_PER_IDENTIFIER);
  private readonly overall: CallLimiter;

  constructor(perMinute: number) {
    this.overall = new CallLimiter({ burst: perMinute, refillMs: 60_000 / perMinute, maxKeys: 1 });
  }

  /**
   * Takes a start, or says how long to wait. Taken before the identifier is looked up, so the
   * answer is the same whether or not it names an account; the identifier's own limit first, so
   * repeating one identifier spends nothing of the overall limit.
   */
  take(identifier: string, nowMs: number): CallPermit {
    const own = this.perIdentifier.take(normalisedIdentifier(identifier), nowMs);
    return own.allowed ? this.overall.take('recovery', nowMs) : own;
  }
}
