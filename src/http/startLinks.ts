import type { Config } from '../config.js';
import { signStartToken, type LinkPurpose } from '../security/signedLink.js';

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
  forSession(returnTo: string | undefined): string {
    return this.build(undefined, returnTo);
  }

  /** For a user without a session, valid for SIGNED_LINK_TTL; undefined without PUBLIC_BASE_URL. */
  signedFor(
    identityId: string,
    nowMs: number,
    returnTo: string | undefined,
    purpose: LinkPurpose = 'verification',
  ): string | undefined {
    if (!this.available) return undefined;
    const expiresAt = Math.floor((nowMs + this.start.linkTtlMs) / 1000);
    const token = signStartToken(identityId, expiresAt, this.start.linkSigningKeys[0] as Buffer, purpose);
    return this.build(token, returnTo);
  }

  /** The link again for a caller who came with `token`: the same token, so the same expiry. */
  withToken(token: string, returnTo: string | undefined): string {
    return this.build(token, returnTo);
  }

  private build(token: string | undefined, returnTo: string | undefined): string {
    const query = new URLSearchParams();
    if (token !== undefined) query.set('token', token);
    if (returnTo !== undefined) query.set('return_to', returnTo);
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return `${this.start.publicBaseUrl ?? ''}/persona/start${search}`;
  }
}
