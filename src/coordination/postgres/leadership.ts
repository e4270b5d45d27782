import type { Leadership } from '../coordination.js';
import { leadershipKey } from './advisoryKeys.js';
import type { SessionConnection } from './sessionConnection.js';

/**
 * Leadership of `name` as a session-level advisory lock on this replica's session connection: held
 * until released or until the session ends (the replica stopped or lost the database), then taken
 * by the next replica that claims it. Claims of one name run one at a time, so the lock is never
 * taken twice by one session (it would then need two releases).
 */
export function leadershipOn(session: SessionConnection, schema: string, name: string): Leadership {
  const [namespace, key] = leadershipKey(schema, name);
  let pending: Promise<unknown> = Promise.resolve();
  const serially = <T>(step: () => Promise<T>): Promise<T> => {
    const result = pending.then(step, step);
    pending = result.catch(() => undefined);
    return result;
  };

  const claim = async (): Promise<boolean> => {
    try {
      if (session.held.has(name)) {
        // The lock lives as long as the session: a session that answers still holds it.
        await session.query('SELECT 1');
        if (session.held.has(name)) return true;
      }
      const { rows } = await session.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS acquired', [
        namespace,
        key,
      ]);
      if (rows[0]?.acquired === true) session.held.add(name);
      return session.held.has(name);
    } catch {
      return false;
    }
  };

  const release = async () => {
    if (!session.held.has(name)) return;
    session.held.delete(name);
    await session.query('SELECT pg_advisory_unlock($1, $2)', [namespace, key]).catch(() => undefined);
  };

  return { claim: () => serially(claim), release: () => serially(release) };
}
