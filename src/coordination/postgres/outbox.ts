import type pg from 'pg';
import type { SqlRun } from '../coordination.js';
import type { OutboxDelivery, OutboxMessage, OutboxReader, Settlement } from '../../notifications/outbox.js';
import { toCoordinationError } from './databaseErrors.js';
import { deleteInBatches } from './deleteInBatches.js';

/** Sent and given-up rows are kept this long (for a look at what was sent), then pruned. */
const RETENTION_SECONDS = 7 * 86_400;

/**
 * Writes messages in the section's transaction (migrations/0002_outbox.sql): they commit or roll
 * back with the change they announce. A message already there is left alone; one with `oncePer`
 * is written only if no message of its key is waiting to be sent and none was delivered within
 * the interval, which the identity's lock, held by the section, makes a check without a race.
 */
export async function enqueueMessages(run: SqlRun, quotedSchema: string, messages: readonly OutboxMessage[]) {
  for (const message of messages) {
    await run(
      `INSERT INTO ${quotedSchema}.outbox (message_id, channel, body, limit_key) ` +
        `SELECT $1, $2, $3, $4::text WHERE $4::text IS NULL OR NOT EXISTS (` +
        `SELECT 1 FROM ${quotedSchema}.outbox WHERE limit_key = $4::text AND (settled_at IS NULL ` +
        `OR (outcome = 'delivered' AND settled_at > now() - make_interval(secs => $5::double precision)))) ` +
        `ON CONFLICT (channel, message_id) DO NOTHING`,
      [
        message.id,
        message.channel,
        JSON.stringify(message.body),
        message.oncePer?.key ?? null,
        (message.oncePer?.withinMs ?? 0) / 1000,
      ],
    );
  }
}

interface Row {
  id: string;
  message_id: string;
  channel: string;
  body: unknown;
  attempts: number;
  enqueued_at: Date;
}

/**
 * The relay's side of the outbox table. Due rows are leased with one statement
 * (`FOR UPDATE SKIP LOCKED`), so two relays never take the same row while its lease lasts; times
 * of due and lease are the database's clock, shared by every replica.
 */
export function postgresOutbox(pool: pg.Pool, quotedSchema: string): OutboxReader {
  const query = async (text: string, values: unknown[]) => {
    try {
      return await pool.query<Row>(text, values);
    } catch (error) {
      throw toCoordinationError(error);
    }
  };
  /** The row behind each delivery handed out, by message and channel. */
  const rowIds = new Map<string, string>();
  const keyOf = (delivery: { id: string; channel: string }) => `${delivery.channel}\n${delivery.id}`;

  return {
    async claimDue(limit, leaseMs, busy) {
      const { rows } = await query(
        `UPDATE ${quotedSchema}.outbox SET leased_until = now() + make_interval(secs => $2::double precision) ` +
          `WHERE id IN (SELECT id FROM ${quotedSchema}.outbox WHERE settled_at IS NULL AND due_at <= now() ` +
          `AND (leased_until IS NULL OR leased_until <= now()) AND channel <> ALL($3::text[]) ` +
          `ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) ` +
          `RETURNING id, message_id, channel, body, attempts, enqueued_at`,
        [limit, leaseMs / 1000, [...(busy ?? [])]],
      );
      return rows
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((row): OutboxDelivery => {
          const delivery = {
            id: row.message_id,
            channel: row.channel,
            body: row.body,
            attempts: row.attempts,
            enqueuedAt: row.enqueued_at.getTime(),
          };
          rowIds.set(keyOf(delivery), row.id);
          return delivery;
        });
    },
    async settle(delivery, settlement: Settlement) {
      const id = rowIds.get(keyOf(delivery));
      rowIds.delete(keyOf(delivery));
      if (id === undefined) return;
      if (settlement.kind === 'retry') {
        await query(
          `UPDATE ${quotedSchema}.outbox SET attempts = attempts + 1, due_at = to_timestamp($2::double precision / 1000), ` +
            `leased_until = NULL WHERE id = $1`,
          [id, settlement.at],
        );
        return;
      }
      await query(
        `UPDATE ${quotedSchema}.outbox SET attempts = attempts + 1, settled_at = now(), outcome = $2, ` +
          `leased_until = NULL WHERE id = $1`,
        [id, settlement.kind],
      );
    },
  };
}

/** Deletes rows settled longer ago than the retention; every replica may run it, any number of times. */
export const pruneOutbox = (pool: pg.Pool, quotedSchema: string): Promise<number> =>
  deleteInBatches(
    pool,
    `DELETE FROM ${quotedSchema}.outbox WHERE id IN (SELECT id FROM ${quotedSchema}.outbox ` +
      `WHERE settled_at < now() - make_interval(secs => $1) LIMIT $2)`,
    [RETENTION_SECONDS],
  );
