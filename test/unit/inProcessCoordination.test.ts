import { describe, expect, it } from 'vitest';
import { INBOX_RETENTION_MS } from '../../src/coordination/coordination.js';
import { createInProcessCoordination } from '../../src/coordination/inProcessCoordination.js';
import { MemoryInbox } from '../../src/coordination/memoryInbox.js';
import { MAX_WAITING_PER_CHANNEL } from '../../src/coordination/memoryOutbox.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { setTimeout as sleep } from 'node:timers/promises';

describe('MemoryInbox', () => {
  it('claims an event once, and again after a rollback', () => {
    const inbox = new MemoryInbox();
    expect(inbox.claim('evt_a')).toBe(true);
    expect(inbox.claim('evt_a')).toBe(false);
    inbox.rollback(['evt_a']);
    expect(inbox.claim('evt_a')).toBe(true);
  });

  it('forgets events older than the retention', () => {
    const clock = { now: 0 };
    const inbox = new MemoryInbox(() => clock.now);
    inbox.claim('evt_old');
    clock.now += INBOX_RETENTION_MS - 1;
    inbox.claim('evt_newer');
    expect(inbox.claim('evt_old')).toBe(false);
    clock.now += 2;
    expect(inbox.claim('evt_newer')).toBe(false);
    expect(inbox.size).toBe(1);
    expect(inbox.claim('evt_old')).toBe(true);
  });

  it('keeps at most its bound of events, dropping the oldest first', () => {
    const inbox = new MemoryInbox(Date.now, 3);
    for (const id of ['evt_1', 'evt_2', 'evt_3', 'evt_4']) inbox.claim(id);
    expect(inbox.size).toBe(3);
    expect(inbox.claim('evt_4')).toBe(false);
    expect(inbox.claim('evt_1')).toBe(true);
  });
});

describe('in-process coordination', () => {
  it('runs sections of one identity one after another, of different identities side by side', async () => {
    const coordination = createInProcessCoordination();
    const log: string[] = [];
    const section = (identity: string, name: string, ms: number) =>
      coordination.withIdentity(identity, undefined, async () => {
        log.push(`${name} start`);
        await sleep(ms);
        log.push(`${name} end`);
      });
    await Promise.all([section('a', 'a1', 40), section('a', 'a2', 5), section('b', 'b1', 10)]);
    expect(log).toEqual(['a1 start', 'b1 start', 'b1 end', 'a1 end', 'a2 start', 'a2 end']);
  });

  it('keeps claims of a unit that resolved, and rolls back those of a unit that threw', async () => {
    const coordination = createInProcessCoordination();
    await expect(
      coordination.withIdentity('a', undefined, async (unit) => {
        expect(await unit.claimEvent('evt_failed')).toBe(true);
        throw new Error('Kratos write failed');
      }),
    ).rejects.toThrow('Kratos write failed');
    const claims = await coordination.withIdentity('a', undefined, async (unit) => [
      await unit.claimEvent('evt_failed'),
      await unit.claimEvent('evt_failed'),
    ]);
    expect(claims).toEqual([true, false]);
    expect(await coordination.withIdentity('b', undefined, (unit) => unit.claimEvent('evt_failed'))).toBe(false);
  });

  it('answers a section that asked for a hold at once, and keeps its identity closed for the hold', async () => {
    const coordination = createInProcessCoordination();
    const held = coordination.withIdentity('a', undefined, async (unit) => {
      unit.holdAfter(150);
      throw new Error('write outcome unknown');
    });
    await expect(held).rejects.toThrow('write outcome unknown');
    const answeredAt = performance.now();
    let otherStartedAt = 0;
    let nextStartedAt = 0;
    await Promise.all([
      coordination.withIdentity('a', undefined, async () => void (nextStartedAt = performance.now())),
      coordination.withIdentity('b', undefined, async () => void (otherStartedAt = performance.now())),
    ]);
    // Had the answer waited for the hold, the next section would have started right after it.
    expect(nextStartedAt - answeredAt).toBeGreaterThanOrEqual(140);
    expect(otherStartedAt).toBeLessThan(nextStartedAt);
  });

  it('never loses a lock, so fences pass', async () => {
    const coordination = createInProcessCoordination();
    await coordination.withIdentity('a', undefined, async (unit) => {
      await unit.fence();
      expect(unit.lost.aborted).toBe(false);
    });
  });

  it('always leads and is always healthy', async () => {
    const coordination = createInProcessCoordination();
    expect(coordination.mode).toBe('single-instance');
    expect(await coordination.leadership('reconcile').claim()).toBe(true);
    expect(await coordination.health()).toEqual({ ok: true });
  });

  it('reports each notification its full outbox refuses: a warning without personal data, and notifications_dropped_total', async () => {
    const lines: string[] = [];
    const metrics = createMetrics();
    const coordination = createInProcessCoordination({
      logger: createLogger({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      countDropped: metrics.countNotificationDropped,
    });
    const forDeadReceiver = Array.from({ length: MAX_WAITING_PER_CHANNEL + 1 }, (_, index) => ({
      id: `msg_${index}`,
      channel: 'webhook:0123456789abcdef',
      body: { data: { identity_id: 'someone' } },
    }));
    await coordination.withIdentity('someone', undefined, (unit) => unit.enqueue(forDeadReceiver));
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 40,
        channel: 'webhook',
        notification_id: `msg_${MAX_WAITING_PER_CHANNEL}`,
        msg: 'notification dropped: the in-memory outbox is full for its channel',
      }),
    ]);
    expect(await metrics.registry.metrics()).toContain('notifications_dropped_total{channel="webhook"} 1');
  });
});
