import { randomUUID } from 'node:crypto';
import { publicIdentity } from './kratosContext.js';
import type { StandInIdentity } from './kratosIdentity.js';
import { kratosError } from './kratosError.js';
import type { RecordedRequest, Reply } from './standInServer.js';

/** The session cookie of a self-hosted Kratos (Ory Network names it ory_session_<slug>). */
export const SESSION_COOKIE = 'ory_kratos_session';

/** A session as the stand-in keeps it. */
export interface StandInSession {
  id: string;
  identityId: string;
  aal2Required: boolean;
  authenticatedAt: string;
}

export interface KratosSessions {
  /** Signs the identity in: a session token, and the Cookie header a browser would send. */
  create(identityId: string, options?: { aal2Required?: boolean }): { token: string; cookie: string };
  /** The session of a token, revoked or not; undefined for a token never issued or revoked. */
  find(token: string): StandInSession | undefined;
  /** Revokes every session of the identity; how many there were. */
  revokeAll(identityId: string): number;
  /** Kratos's toSession (`GET /sessions/whoami`) on the public API. */
  whoami(request: RecordedRequest): Reply;
}

/**
 * Sessions as Kratos's public API checks them: the X-Session-Token header, a bearer token or the
 * session cookie; 401 without an active session, 403 while a second factor is missing.
 */
export function kratosSessions(identity: (id: string) => StandInIdentity | undefined): KratosSessions {
  const sessions = new Map<string, StandInSession>();

  return {
    create(identityId, options = {}) {
      const token = `ory_st_${randomUUID().replace(/-/g, '')}`;
      sessions.set(token, {
        id: randomUUID(),
        identityId,
        aal2Required: options.aal2Required ?? false,
        authenticatedAt: new Date().toISOString(),
      });
      return { token, cookie: `${SESSION_COOKIE}=${token}` };
    },

    find(token) {
      return sessions.get(token);
    },

    revokeAll(identityId) {
      const revoked = [...sessions].filter(([, session]) => session.identityId === identityId);
      for (const [token] of revoked) sessions.delete(token);
      return revoked.length;
    },

    whoami(request) {
      const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
      const cookie = String(request.headers.cookie ?? '')
        .split(';')
        .map((pair) => pair.trim().split('='))
        .find(([name]) => name === SESSION_COOKIE)?.[1];
      const token = request.headers['x-session-token'] ?? bearer ?? cookie;
      const session = typeof token === 'string' ? sessions.get(token) : undefined;
      const found = session === undefined ? undefined : identity(session.identityId);
      if (session === undefined || found === undefined) {
        return kratosError(401, 'Unauthorized', 'No active session was found in this request.');
      }
      if (session.aal2Required) return kratosError(403, 'Forbidden', 'session_aal2_required');
      // An inactive identity's sessions are refused (reference/kratos-actions.md, "Sessions").
      if (found.state !== 'active')
        return kratosError(401, 'Unauthorized', 'No active session was found in this request.');
      const now = new Date();
      return {
        status: 200,
        body: {
          id: session.id,
          active: true,
          authenticator_assurance_level: 'aal1',
          authenticated_at: session.authenticatedAt,
          issued_at: session.authenticatedAt,
          expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
          identity: publicIdentity(found),
        },
      };
    },
  };
}
