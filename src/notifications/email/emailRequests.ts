import { errorFields, type Logger } from '../../logger.js';
import type { EmailRequest } from '../notice.js';

/** Identities remembered as emailed in this process; beyond this, new requests are refused until some expire. */
const MAX_REMEMBERED = 100_000;
/** Requests waiting for the worker; beyond this, new ones are refused. */
const MAX_WAITING = 1_000;

export interface EmailRequests {
  /**
   * Asks for an email to the identity, without waiting and without any I/O (the login gate calls
   * it). True when an email has been asked for within EMAIL_MIN_INTERVAL, by this request or an
   * earlier one, and the outbox is known to take it, so the block message may say an email was
   * sent.
   */
  request(identityId: string, email: EmailRequest): boolean;
  /** Resolves when the requests made so far have been handed to the outbox (tests). */
  idle(): Promise<void>;
}

/**
 * The login gate's way to the person's mailbox: it remembers in memory whom it emailed within
 * EMAIL_MIN_INTERVAL and queues the rest for a worker that leaves the request path at once. The
 * worker hands each request to `submit`, which enqueues it in the outbox with `oncePer`, the rule
 * that holds across replicas (in Postgres mode under the identity's lock in the database); here,
 * memory only spares the gate repeated requests. A request `submit` fails is forgotten, so the
 * next blocked login asks again; while the outbox is known not to take writes (`writable`: the
 * database unreachable or not migrated), requests still go to the worker, so the first that
 * succeeds ends the outage, but none says an email was sent.
 */
export function createEmailRequests(options: {
  minIntervalMs: number;
  now: () => number;
  submit: (identityId: string, email: EmailRequest) => Promise<void>;
  /** Whether the outbox can be expected to take the email now, known without I/O. */
  writable: () => boolean;
  logger: Logger;
}): EmailRequests {
  /** Identity -> until when it counts as emailed; Map order is request order. */
  const emailedUntil = new Map<string, number>();
  const waiting: [string, EmailRequest][] = [];
  let working: Promise<void> | undefined;

  const forgetExpired = (now: number) => {
    for (const [identityId, until] of emailedUntil) {
      if (until > now) break;
      emailedUntil.delete(identityId);
    }
  };

  async function work() {
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
      const [identityId, email] = next;
      try {
        await options.submit(identityId, email);
      } catch (error) {
        emailedUntil.delete(identityId);
        options.logger.warn({ identity_id: identityId, ...errorFields(error) }, 'email to the person not queued');
      }
    }
  }

  /** The worker runs after the gate has answered, and once more for what came while it finished. */
  function schedule() {
    if (working !== undefined) return;
    working = new Promise<void>((resolve) => setImmediate(resolve)).then(work).finally(() => {
      working = undefined;
      if (waiting.length > 0) schedule();
    });
  }

  return {
    request(identityId, email) {
      const now = options.now();
      if ((emailedUntil.get(identityId) ?? 0) > now) return options.writable();
      forgetExpired(now);
      if (emailedUntil.size >= MAX_REMEMBERED || waiting.length >= MAX_WAITING) return false;
      emailedUntil.delete(identityId);
      emailedUntil.set(identityId, now + options.minIntervalMs);
      waiting.push([identityId, email]);
      schedule();
      return options.writable();
    },
    async idle() {
      while (working !== undefined) await working;
    },
  };
}
