import type { SharedDatabase } from '../../coordination/coordination.js';
import { shortCodesKey } from '../../coordination/postgres/advisoryKeys.js';
import { judge, type IssuedCode, type ShortCodeStore } from './shortCodeStore.js';

/** Live codes all replicas keep at most: more is not help-desk traffic. */
const MAX_LIVE_CODES = 100_000;

const codeOf = (row: Record<string, unknown>): IssuedCode => ({
  handle: row['handle'] as string,
  secretDigest: row['secret_digest'] as Buffer,
  identityId: row['identity_id'] as string,
  purpose: row['purpose'] as IssuedCode['purpose'],
  returnTo: (row['return_to'] as string | null) ?? null,
  expiresAt: (row['expires_at'] as Date).getTime(),
  attemptsLeft: row['attempts_left'] as number,
  issuedBy: row['issued_by'] as string,
});

/**
 * Short codes in the `short_codes` table (migration 0003_help_desk), shared by every replica. A redemption
 * locks the code's row (`FOR UPDATE`) so that two replicas never both count, or both accept, the
 * same try; the judgement itself is the one every store uses (shortCodeStore.ts).
 */
export function createPostgresShortCodeStore(database: SharedDatabase): ShortCodeStore {
  const table = `${database.quotedSchema}.short_codes`;
  return {
    issue(code, nowMs) {
      return database.transaction(async (run) => {
        const now = new Date(nowMs);
        // Two agents issuing at once would each delete nothing and both insert: the second waits.
        await run('SELECT pg_advisory_xact_lock($1, $2)', [...shortCodesKey(database.quotedSchema, code.identityId)]);
        await run(`DELETE FROM ${table} WHERE expires_at <= $1 OR identity_id = $2`, [now, code.identityId]);
        const live = await run(`SELECT count(*)::int AS live FROM ${table}`);
        if ((live.rows[0]?.['live'] as number) >= MAX_LIVE_CODES) return 'full';
        const inserted = await run(
          `INSERT INTO ${table} (handle, secret_digest, identity_id, purpose, return_to, expires_at, attempts_left, issued_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (handle) DO NOTHING`,
          [
            code.handle,
            code.secretDigest,
            code.identityId,
            code.purpose,
            code.returnTo,
            new Date(code.expiresAt),
            code.attemptsLeft,
            code.issuedBy,
          ],
        );
        return inserted.rowCount === 1 ? 'issued' : 'handle_taken';
      });
    },
    redeem(handle, presentedDigest, nowMs) {
      return database.transaction(async (run) => {
        const found = await run(`SELECT * FROM ${table} WHERE handle = $1 FOR UPDATE`, [handle]);
        const stored = found.rows[0] === undefined ? undefined : codeOf(found.rows[0]);
        const { redemption, keep } = judge(stored, presentedDigest, nowMs);
        if (stored !== undefined && keep === undefined) await run(`DELETE FROM ${table} WHERE handle = $1`, [handle]);
        if (keep !== undefined) {
          await run(`UPDATE ${table} SET attempts_left = $2 WHERE handle = $1`, [handle, keep.attemptsLeft]);
        }
        return redemption;
      });
    },
  };
}
