import { createHash } from 'node:crypto';
import { personaError } from './personaResources.js';
import type { RecordedRequest, Reply } from './standInServer.js';

/** Persona prunes a key once it is at least 24 hours old; reused later, it makes a new request. */
const KEY_LIFETIME_MS = 24 * 3_600_000;

/**
 * Persona's idempotency layer (https://docs.withpersona.com/reference/idempotence): the first answer
 * to a POST with an `Idempotency-Key` is saved, whatever its status, 500 included, and replayed to
 * every later request with that key; a key reused with other parameters is refused with 400
 * ("Idempotency error"). 401 and 429 are decided before this layer, so they are never saved.
 */
export class IdempotencyLayer {
  private readonly saved = new Map<string, { fingerprint: string; reply: Reply; at: number }>();

  constructor(private readonly now: () => number) {}

  /** The saved answer to replay, the refusal of a key reused otherwise, or undefined: handle it. */
  check(request: RecordedRequest): Reply | undefined {
    const entry = this.entry(request);
    if (entry === undefined) return undefined;
    if (entry.saved.fingerprint === entry.fingerprint) return entry.saved.reply;
    return personaError(
      400,
      'Idempotency error',
      'Keys for idempotent requests can only be used with the same parameters they were first used with.',
    );
  }

  /** Saves the first answer to a keyed POST; called for every answer, injected failures included. */
  remember(request: RecordedRequest, reply: Reply): void {
    const key = keyOf(request);
    if (key === undefined || reply.status === 401 || reply.status === 429 || this.entry(request) !== undefined) return;
    this.saved.set(key, { fingerprint: fingerprintOf(request), reply, at: this.now() });
  }

  private entry(request: RecordedRequest) {
    const key = keyOf(request);
    const saved = key === undefined ? undefined : this.saved.get(key);
    if (key === undefined || saved === undefined) return undefined;
    if (this.now() - saved.at >= KEY_LIFETIME_MS) {
      this.saved.delete(key);
      return undefined;
    }
    return { saved, fingerprint: fingerprintOf(request) };
  }
}

/** Sending a key with GET or DELETE has no effect at Persona: only POSTs are keyed. */
const keyOf = (request: RecordedRequest) => {
  const key = request.headers['idempotency-key'];
  return request.method === 'POST' && typeof key === 'string' ? key : undefined;
};

const fingerprintOf = (request: RecordedRequest) =>
  createHash('sha256').update(`${request.method} ${request.path}\n${request.rawBody}`).digest('hex');
