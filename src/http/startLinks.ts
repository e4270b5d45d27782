import type { Config } from '../config.js';
import { signStartToken, type LinkPurpose } from '../security/signedLink.js';

/** The purposes `/persona/start` serves (a recovery has a way of its own, `/persona/recover`). */
export const START_PURPOSES = ['verification', 'step_up'] as const satisfies readonly LinkPurpose[];

/** Where a person types the short code a help-desk agent gave them. */
export const CODE_ENTRY_PATH = '/persona/start/code';

/** What a link to `/persona/start` asks for: the identity's verification, or a step-up no older than `maxAge`. */
export interface StartTarget {
  purpose?: Exclude<LinkPurpose, 'recovery'>;
  /** `max_age` as the caller wrote it (a duration), for step-up. */
  maxAge?: string | undefined;
}

/**
 * Links to `/persona/start` that this service hands out, built on PUBLIC_BASE_URL. A signed token
 * stands in for the session a blocked user does not have.
 */
export class StartLinks {
  constructor(private readonly start: Config['start']) {}

  get available(): boolean {
    return this.start.publicBaseUrl !== undefined;
  }

  /** For a user with a session (or relative, when PUBLIC_BASE_URL is not set). */
  forSession(returnTo: string | undefined, target: StartTarget = {}): string {
    return this.build(undefined, returnTo, target);
  }

  /**
   * For a user without a session, valid for SIGNED_LINK_TTL and only for the target's purpose;
   * undefined without PUBLIC_BASE_URL.
   */
  signedFor(
    identityId: string,
    nowMs: number,
    returnTo: string | undefined,
    target: StartTarget = {},
  ): string | undefined {
    return this.signedUntil(identityId, nowMs + this.start.linkTtlMs, returnTo, target);
  }

  /** The same, valid until `expiresAtMs` (a help-desk agent's link); undefined without PUBLIC_BASE_URL. */
  signedUntil(
    identityId: string,
    expiresAtMs: number,
    returnTo: string | undefined,
    target: StartTarget = {},
  ): string | undefined {
    if (!this.available) return undefined;
    const expiresAt = Math.floor(expiresAtMs / 1000);
    const purpose = target.purpose ?? 'verification';
    const token = signStartToken(identityId, expiresAt, this.start.linkSigningKeys[0] as Buffer, purpose);
    return this.build(token, returnTo, target);
  }

  /** Where a person types a short code a help-desk agent gave them; undefined without PUBLIC_BASE_URL. */
  get codeEntry(): string | undefined {
    return this.available ? `${this.start.publicBaseUrl}${CODE_ENTRY_PATH}` : undefined;
  }

  /** The link again for a caller who came with `token`: the same token, so the same expiry. */
  withToken(token: string, returnTo: string | undefined, target: StartTarget = {}): string {
    return this.build(token, returnTo, target);
  }

  private build(token: string | undefined, returnTo: string | undefined, target: StartTarget): string {
    const query = new URLSearchParams();
    if (token !== undefined) query.set('token', token);
    if (target.purpose === 'step_up') query.set('purpose', 'step_up');
    if (target.maxAge !== undefined) query.set('max_age', target.maxAge);
    if (returnTo !== undefined) query.set('return_to', returnTo);
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return `${this.start.publicBaseUrl ?? ''}/persona/start${search}`;
  }
}
