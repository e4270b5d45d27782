import type { Request } from 'express';
import type { KratosApi } from '../kratos/kratosClient.js';
import type { CallOptions } from '../outbound/retry.js';
import { verifyStartToken } from '../security/signedLink.js';
import { HttpError } from './httpError.js';

export interface UserAuthentication {
  kratos: KratosApi;
  linkSigningKeys: readonly Buffer[];
  now: () => number;
  /** For the toSession call. */
  callOptions: CallOptions;
}

/**
 * Who is asking: the identity of a signed link (a user the login gate blocked has no session), or
 * of the Kratos session the request carries, checked with Kratos's toSession.
 */
export async function authenticateUser(
  req: Request,
  auth: UserAuthentication,
): Promise<{ identityId: string; via: 'link' | 'session' }> {
  const token = req.query['token'];
  if (token !== undefined) {
    if (typeof token !== 'string') throw new HttpError(400, 'invalid_request', 'token must be given once');
    const verification = verifyStartToken(token, auth.linkSigningKeys, Math.floor(auth.now() / 1000));
    if (!verification.valid) {
      throw verification.reason === 'expired'
        ? new HttpError(401, 'link_expired', 'This link has expired. Sign in again to continue.')
        : new HttpError(401, 'invalid_link', 'This link is not valid. Sign in again to continue.');
    }
    return { identityId: verification.identityId, via: 'link' };
  }

  const sessionToken = req.get('x-session-token');
  const cookie = req.get('cookie');
  const credentials = sessionToken !== undefined ? { sessionToken } : cookie !== undefined ? { cookie } : undefined;
  if (credentials === undefined) throw new HttpError(401, 'unauthenticated', 'Sign in to continue.');
  const identityId = await auth.kratos.whoami(credentials, auth.callOptions);
  if (identityId === null) throw new HttpError(401, 'unauthenticated', 'Sign in to continue.');
  return { identityId, via: 'session' };
}
