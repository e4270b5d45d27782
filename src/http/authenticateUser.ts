import type { Request } from 'express';
import type { KratosApi, SessionCheck, SessionCredentials } from '../kratos/kratosClient.js';
import type { CallOptions } from '../outbound/retry.js';
import { verifyStartToken, type LinkPurpose } from '../security/signedLink.js';
import { HttpError } from './httpError.js';

export interface UserAuthentication {
  kratos: KratosApi;
  linkSigningKeys: readonly Buffer[];
  now: () => number;
  /** For the toSession call. */
  callOptions: CallOptions;
}

export type AuthenticatedUser =
  { identityId: string; via: 'session' } | { identityId: string; via: 'link'; token: string; purpose: LinkPurpose };

const sessionCredentials = (req: Request): SessionCredentials | undefined => {
  const sessionToken = req.get('x-session-token');
  const cookie = req.get('cookie');
  return sessionToken !== undefined ? { sessionToken } : cookie !== undefined ? { cookie } : undefined;
};

/**
 * Who is asking: the identity of a signed link (a user the login gate blocked has no session), or
 * of the Kratos session the request carries, checked with Kratos's toSession. A link for one
 * identity opened in a browser signed in as another is refused: the person behind that session
 * would otherwise verify the link's identity with their own documents.
 */
export async function authenticateUser(req: Request, auth: UserAuthentication): Promise<AuthenticatedUser> {
  const credentials = sessionCredentials(req);
  const token = req.query['token'];
  if (token !== undefined) {
    if (typeof token !== 'string') throw new HttpError(400, 'invalid_request');
    const verification = verifyStartToken(token, auth.linkSigningKeys, Math.floor(auth.now() / 1000));
    if (!verification.valid) {
      // A link valid for longer than links may be is told apart from a forged one: its holder was
      // sent it, and should sign in or ask for a new one, as after an expiry.
      const lapsed = verification.reason === 'expired' || verification.reason === 'beyond_max_ttl';
      throw new HttpError(401, lapsed ? 'link_expired' : 'invalid_link');
    }
    const signedIn: SessionCheck =
      credentials === undefined ? { kind: 'none' } : await auth.kratos.whoami(credentials, auth.callOptions);
    // Someone half signed in (a second factor owed) may be anyone: refused the same way.
    const someoneElse =
      signedIn.kind === 'second_factor_required' ||
      (signedIn.kind === 'session' && signedIn.identityId !== verification.identityId);
    if (someoneElse) {
      throw new HttpError(409, 'link_for_another_account');
    }
    return { identityId: verification.identityId, via: 'link', token, purpose: verification.purpose };
  }

  if (credentials === undefined) throw new HttpError(401, 'unauthenticated');
  const session = await auth.kratos.whoami(credentials, auth.callOptions);
  if (session.kind !== 'session') throw new HttpError(401, 'unauthenticated');
  return { identityId: session.identityId, via: 'session' };
}
