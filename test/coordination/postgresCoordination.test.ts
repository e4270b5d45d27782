import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationError } from '../../src/coordination/coordination.js';
import { identityKey } from '../../src/coordination/postgres/advisoryKeys.js';
import {
  createPostgresCoordination,
  type PostgresCoordination,
} from '../../src/coordination/postgres/postgresCoordination.js';
import { createLogger } from '../../src/logger.js';
import { deadlineIn } from '../../src/outbound/retry.js';
import { freePort } from '../../sandbox/freePort.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { setTimeout as sleep } from 'node:timers/promises';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const open: PostgresCoordination[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((coordination) => coordination.close()));
});

/** A replica's coordination on the test database, migrated unless told otherwise. */
async function replica(options: { poolSize?: number; schema?: string; start?: boolean; url?: string } = {}) {
  const coordination = createPostgresCoordination(
    { url: options.url ?? database.url, schema: options.schema ?? 'persona_idv', poolSize: options.poolSize ?? 4 },
    createLogger({ level: 'silent' }),
  );
  open.push(coordination);
  if (options.start !== false) await coordination.start();
  return coordination;
}

/**
 * A TCP path to the test database that can go silent, as a partitioned network does: the sockets
 * stay open and every byte from then on is dropped, so nothing errors until a timeout.
 */
async function silenceablePath() {
  const target = new URL(database.url);
  const sockets: Socket[] = [];
  let silent = false;
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
    sockets.push(inbound, outbound);
    inbound.on('data', (chunk) => void (silent || outbound.write(chunk)));
    outbound.on('data', (chunk) => void (silent || inbound.write(chunk)));
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(database.url);
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: url.toString(),
    silence: () => void (silent = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('Postgres coordination: sections', () => {
  it('lets one replica at a time into an identity, and different identities in side by side', async () => {
    const [a, b] = [await replica(), await replica()];
    let inside = 0;
    let most = 0;
    let otherIdentityOverlapped = false;
    const section = () => async () => {
      inside += 1;
      most = Math.max(most, inside);
      await sleep(5);
      inside -= 1;
    };
    const sameIdentity = Array.from({ length: 20 }, (_, index) =>
      (index % 2 === 0 ? a : b).withIdentity('identity-x', undefined, section()),
    );
    const other = b.withIdentity('identity-y', undefined, async () => {
      for (let wait = 0; wait < 100 && !otherIdentityOverlapped; wait += 1) {
        otherIdentityOverlapped = inside > 0;
        await sleep(2);
      }
    });
    await Promise.all([...sameIdentity, other]);
    expect(most).toBe(1);
    expect(otherIdentityOverlapped).toBe(true);
  });

  it('records an event once across replicas, and forgets it when its section rolls back', async () => {
    const [a, b] = [await replica(), await replica()];
    expect(await a.withIdentity('identity-x', undefined, (unit) => unit.claimEvent('evt_1'))).toBe(true);
    expect(await b.withIdentity('identity-x', undefined, (unit) => unit.claimEvent('evt_1'))).toBe(false);

    await expect(
      a.withIdentity('identity-x', undefined, async (unit) => {
        expect(await unit.claimEvent('evt_2')).toBe(true);
        throw new Error('the Kratos write failed');
      }),
    ).rejects.toThrow('the Kratos write failed');
    expect(await b.withIdentity('identity-x', undefined, (unit) => unit.claimEvent('evt_2'))).toBe(true);
    const rows = await database.query('SELECT event_id FROM persona_idv.inbox ORDER BY event_id');
    expect(rows.rows).toEqual([{ event_id: 'evt_1' }, { event_id: 'evt_2' }]);
  });

  it("gives up waiting for another replica's lock within the caller's deadline", async () => {
    const coordination = await replica();
    const holder = await database.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [...identityKey('identity-x')]);

    const started = performance.now();
    const error = await coordination.withIdentity('identity-x', deadlineIn(600), async () => 'ran').catch((e) => e);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(CoordinationError);
    expect(error).toMatchObject({ failure: 'lock_timeout', code: '55P03', transient: true });
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(600);

    await holder.query('COMMIT');
    expect(await coordination.withIdentity('identity-x', deadlineIn(600), async () => 'ran')).toBe('ran');
  });

  it('says its lock is lost when its connection is cut mid-section, refuses the fence, and another replica enters', async () => {
    const [a, b] = [await replica(), await replica()];
    let otherEntered = false;
    const section = a.withIdentity('identity-x', deadlineIn(5_000), async (unit) => {
      await unit.fence();
      const lost = new Promise((resolve) => unit.lost.addEventListener('abort', resolve));
      // A failover or a restart ends every session; the server releases the session's locks with it.
      await database.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
      );
      await lost;
      await b.withIdentity('identity-x', deadlineIn(1_000), async () => void (otherEntered = true));
      await expect(unit.fence()).rejects.toMatchObject({ name: 'CoordinationError', failure: 'lock_lost' });
      return 'done';
    });
    await expect(section).rejects.toMatchObject({ name: 'CoordinationError', failure: 'lock_lost' });
    expect(otherEntered).toBe(true);
    expect(await a.withIdentity('identity-x', deadlineIn(1_000), async () => 'ran again')).toBe('ran again');
  });

  it('ends within its deadline when its connection goes silent: the fence refuses, nothing more is sent on it', async () => {
    const path = await silenceablePath();
    try {
      const coordination = await replica({ url: path.url });
      const started = performance.now();
      const section = coordination.withIdentity('identity-x', deadlineIn(1_000), async (unit) => {
        path.silence();
        await unit.fence();
        return 'wrote';
      });
      await expect(section).rejects.toMatchObject({ name: 'CoordinationError', failure: 'lock_lost' });
      // A ROLLBACK sent on the silent connection would queue behind the fence's query and wait for
      // the pool's query timeout (10 s) before the caller had its answer.
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      await path.close();
    }
  });

  it('keeps the lock through a hold after a failed section, which is answered at once', async () => {
    const [a, b] = [await replica(), await replica()];
    const failed = a.withIdentity('identity-x', undefined, async (unit) => {
      unit.holdAfter(400);
      throw new Error('write outcome unknown');
    });
    await expect(failed).rejects.toThrow('write outcome unknown');
    const answeredAt = performance.now();
    await b.withIdentity('identity-x', deadlineIn(3_000), async () => undefined);
    // Had the answer waited for the hold, the other replica would have entered right after it.
    expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(350);
  });

  it('keeps waiters of one identity off the pool, so other identities still get a connection', async () => {
    const coordination = await replica({ poolSize: 2 });
    const finished: string[] = [];
    const busy = Array.from({ length: 30 }, (_, index) =>
      coordination.withIdentity('identity-busy', undefined, async () => {
        await sleep(15);
        finished.push(`busy-${index}`);
      }),
    );
    await sleep(40);
    await coordination.withIdentity('identity-other', deadlineIn(1_000), async () => void finished.push('other'));
    await Promise.all(busy);
    expect(finished.indexOf('other')).toBeLessThan(10);
    const connections = await database.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ory-persona-idv' AND datname = current_database()",
    );
    expect(connections.rows[0]?.n).toBeLessThanOrEqual(2);
  });

  it('answers CoordinationError when no pool connection frees up within the deadline', async () => {
    const coordination = await replica({ poolSize: 1 });
    const holding = coordination.withIdentity('identity-a', undefined, () => sleep(400));
    await sleep(20);
    const error = await coordination.withIdentity('identity-b', deadlineIn(150), async () => 'ran').catch((e) => e);
    expect(error).toMatchObject({ name: 'CoordinationError', failure: 'unavailable', code: 'pool_timeout' });
    await holding;
    expect(await coordination.withIdentity('identity-b', deadlineIn(1_000), async () => 'ran')).toBe('ran');
  });

  it('refuses sections until the schema is migrated', async () => {
    const coordination = await replica({ schema: 'persona_idv_unmigrated', start: false });
    const error = await coordination.withIdentity('identity-x', undefined, async () => 'ran').catch((e) => e);
    expect(error).toMatchObject({ name: 'CoordinationError', failure: 'schema_pending' });
    expect(await coordination.health()).toEqual({ ok: false, reason: 'database_schema_pending' });
    await coordination.start();
    expect(await coordination.health()).toEqual({ ok: true });
    expect(await coordination.withIdentity('identity-x', undefined, async () => 'ran')).toBe('ran');
  });

  it('reports an unreachable database as unhealthy, and its sections as unavailable', async () => {
    const url = new URL(database.url);
    url.port = String(await freePort());
    const coordination = await replica({ url: url.toString(), start: false });
    expect(await coordination.health()).toEqual({ ok: false, reason: 'database_unavailable' });
    await expect(coordination.migrate()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('says it is not writable before it is migrated and while the database fails its sections, until one commits', async () => {
    const coordination = await replica({ schema: 'persona_idv_writable', start: false });
    expect(coordination.writable).toBe(false);
    await coordination.start();
    expect(coordination.writable).toBe(true);
    // A lock another replica holds is no failure of the database.
    const other = await replica({ schema: 'persona_idv_writable' });
    let release = () => undefined as void;
    const holding = other.withIdentity('identity-w', deadlineIn(5_000), () => new Promise<void>((r) => (release = r)));
    await sleep(50);
    await expect(coordination.withIdentity('identity-w', deadlineIn(100), async () => 'ran')).rejects.toMatchObject({
      failure: 'lock_timeout',
    });
    expect(coordination.writable).toBe(true);
    release();
    await holding;

    const url = new URL(database.url);
    url.port = String(await freePort());
    const unreachable = await replica({ url: url.toString(), start: false });
    expect(unreachable.writable).toBe(false);
  });

  it('prunes inbox entries older than 7 days when it starts', async () => {
    await replica();
    await database.query(
      "INSERT INTO persona_idv.inbox (event_id, applied_at) VALUES ('evt_8_days', now() - interval '8 days'), ('evt_6_days', now() - interval '6 days')",
    );
    await replica();
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const rows = await database.query("SELECT 1 FROM persona_idv.inbox WHERE event_id = 'evt_8_days'");
      if (rows.rowCount === 0) break;
      await sleep(20);
    }
    const left = await database.query("SELECT event_id FROM persona_idv.inbox WHERE event_id LIKE 'evt_%_days'");
    expect(left.rows).toEqual([{ event_id: 'evt_6_days' }]);
  });
});

describe('Postgres coordination: the outbox', () => {
  const message = (id: string, oncePer?: { key: string; withinMs: number }) => ({
    id,
    channel: 'slack',
    body: { type: 'verification.declined', id },
    ...(oncePer !== undefined && { oncePer }),
  });
  const section = (coordination: PostgresCoordination, work: Parameters<PostgresCoordination['withIdentity']>[2]) =>
    coordination.withIdentity('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', deadlineIn(5_000), work);

  it('keeps what a section wrote only when it commits, each message once', async () => {
    const coordination = await replica({ schema: 'outbox_commit' });
    await section(coordination, (unit) => unit.enqueue([message('msg_kept'), message('msg_kept')]));
    await expect(
      section(coordination, async (unit) => {
        await unit.enqueue([message('msg_rolled_back')]);
        throw new Error('the Kratos write failed');
      }),
    ).rejects.toThrow('the Kratos write failed');
    await section(coordination, (unit) => unit.enqueue([message('msg_kept')]));
    const due = await coordination.outbox.claimDue(10, 60_000);
    expect(due.map((delivery) => [delivery.id, delivery.body])).toEqual([
      ['msg_kept', { type: 'verification.declined', id: 'msg_kept' }],
    ]);
  });

  it('leases what it hands out, hands a retry out when due, and holds back a oncePer key within its interval', async () => {
    const [a, b] = [await replica({ schema: 'outbox_lease' }), await replica({ schema: 'outbox_lease' })];
    const once = { key: 'email:someone', withinMs: 3_600_000 };
    await section(a, (unit) => unit.enqueue([message('msg_first', once)]));
    await section(b, (unit) => unit.enqueue([message('msg_second', once), message('msg_other')]));
    const [taken, other] = await a.outbox.claimDue(10, 60_000);
    expect([taken?.id, other?.id]).toEqual(['msg_first', 'msg_other']);
    expect(await b.outbox.claimDue(10, 60_000)).toEqual([]);
    await a.outbox.settle(taken!, { kind: 'retry', at: Date.now() - 1_000, reason: 'http_503' });
    await a.outbox.settle(other!, { kind: 'delivered' });
    expect(await b.outbox.claimDue(10, 60_000)).toEqual([expect.objectContaining({ id: 'msg_first', attempts: 1 })]);
  });

  it('holds a oncePer key back while one of its messages waits, however long, and for the interval after one was delivered', async () => {
    const coordination = await replica({ schema: 'outbox_once' });
    const once = { key: 'email:someone', withinMs: 3_600_000 };
    const write = (id: string) => section(coordination, (unit) => unit.enqueue([message(id, once)]));
    const ids = async () => (await database.query('SELECT message_id FROM outbox_once.outbox ORDER BY id')).rows;
    await write('msg_waiting');
    // The mail relay has refused it for hours: no second joins it.
    await database.query("UPDATE outbox_once.outbox SET enqueued_at = now() - interval '5 hours'");
    await write('msg_while_waiting');
    expect(await ids()).toEqual([{ message_id: 'msg_waiting' }]);

    const [waiting] = await coordination.outbox.claimDue(10, 60_000);
    await coordination.outbox.settle(waiting!, { kind: 'delivered' });
    await write('msg_just_after');
    expect(await ids()).toHaveLength(1);
    // Counted from when it went out, not from when it was written.
    await database.query("UPDATE outbox_once.outbox SET settled_at = now() - interval '61 minutes'");
    await write('msg_next');
    const [next] = await coordination.outbox.claimDue(10, 60_000);
    expect(next?.id).toBe('msg_next');
    // One found not needed when it was due holds nothing back.
    await coordination.outbox.settle(next!, { kind: 'skipped', reason: 'no_longer_needed' });
    await write('msg_after_skipped');
    expect((await ids()).map((row) => row['message_id'])).toEqual(['msg_waiting', 'msg_next', 'msg_after_skipped']);
  });

  it('takes no message of a channel the relay is still busy with', async () => {
    const coordination = await replica({ schema: 'outbox_busy' });
    await section(coordination, (unit) =>
      unit.enqueue([
        { ...message('msg_hung_1'), channel: 'webhook:hung' },
        message('msg_slack'),
        { ...message('msg_hung_2'), channel: 'webhook:hung' },
      ]),
    );
    const due = await coordination.outbox.claimDue(10, 60_000, new Set(['webhook:hung']));
    expect(due.map((delivery) => delivery.id)).toEqual(['msg_slack']);
    expect((await coordination.outbox.claimDue(10, 60_000)).map((delivery) => delivery.id)).toEqual([
      'msg_hung_1',
      'msg_hung_2',
    ]);
  });

  it('prunes what was settled more than 7 days ago', async () => {
    await replica({ schema: 'outbox_prune' });
    await database.query(
      "INSERT INTO outbox_prune.outbox (message_id, channel, body, settled_at, outcome) VALUES ('msg_old', 'slack', '{}', now() - interval '8 days', 'delivered'), ('msg_recent', 'slack', '{}', now() - interval '6 days', 'delivered'), ('msg_waiting', 'slack', '{}', NULL, NULL)",
    );
    await replica({ schema: 'outbox_prune' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const rows = await database.query("SELECT 1 FROM outbox_prune.outbox WHERE message_id = 'msg_old'");
      if (rows.rowCount === 0) break;
      await sleep(20);
    }
    const left = await database.query('SELECT message_id FROM outbox_prune.outbox ORDER BY message_id');
    expect(left.rows).toEqual([{ message_id: 'msg_recent' }, { message_id: 'msg_waiting' }]);
  });
});

describe('Postgres coordination: leadership', () => {
  it('lets one replica lead, keeps it there, and hands the lead on when it is released or the replica stops', async () => {
    const replicas = [await replica(), await replica(), await replica()];
    const claims = () => Promise.all(replicas.map((r) => r.leadership('reconcile').claim()));

    const first = await claims();
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(await claims()).toEqual(first);
    const leader = first.indexOf(true);

    await replicas[leader]?.leadership('reconcile').release();
    const second = await claims();
    expect(second.filter(Boolean)).toHaveLength(1);

    const nextLeader = second.indexOf(true);
    await replicas[nextLeader]?.close();
    const survivors = replicas.filter((_, index) => index !== nextLeader);
    const third = await Promise.all(survivors.map((r) => r.leadership('reconcile').claim()));
    expect(third.filter(Boolean)).toHaveLength(1);
  });

  it('leads each kind of work on its own, and each schema on its own', async () => {
    const [a, b] = [await replica(), await replica()];
    const other = await replica({ schema: 'persona_idv_other' });
    expect(await a.leadership('reconcile').claim()).toBe(true);
    expect(await b.leadership('reconcile').claim()).toBe(false);
    expect(await b.leadership('outbox').claim()).toBe(true);
    expect(await other.leadership('reconcile').claim()).toBe(true);
  });

  it('gives the lead up when its session is cut, and another replica takes it', async () => {
    const [a, b] = [await replica(), await replica()];
    expect(await a.leadership('reconcile').claim()).toBe(true);
    expect(await b.leadership('reconcile').claim()).toBe(false);
    await database.query(
      "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()",
    );
    await sleep(50);
    expect(await b.leadership('reconcile').claim()).toBe(true);
    expect(await a.leadership('reconcile').claim()).toBe(false);
  });
});
