import { describe, expect, it } from 'vitest';
import { MemoryOutbox } from '../../src/coordination/memoryOutbox.js';

const message = (id: string, channel = 'slack') => ({ id, channel, body: { id } });

describe('MemoryOutbox', () => {
  it('takes a message once per channel, and never again once sent', async () => {
    const clock = { now: 0 };
    const outbox = new MemoryOutbox(() => clock.now);
    await outbox.enqueue([message('a'), message('a'), message('a', 'servicenow')]);
    expect(outbox.size).toBe(2);
    const due = await outbox.claimDue(10, 1_000);
    expect(due.map((delivery) => `${delivery.channel} ${delivery.id}`)).toEqual(['slack a', 'servicenow a']);
    for (const delivery of due) await outbox.settle(delivery, { kind: 'delivered' });
    await outbox.enqueue([message('a')]);
    expect(outbox.size).toBe(0);
  });

  it('leases what it hands out, and hands a retry out again when it is due', async () => {
    const clock = { now: 0 };
    const outbox = new MemoryOutbox(() => clock.now);
    await outbox.enqueue([message('a')]);
    const [delivery] = await outbox.claimDue(10, 1_000);
    expect(await outbox.claimDue(10, 1_000)).toEqual([]);
    await outbox.settle(delivery!, { kind: 'retry', at: 5_000, reason: 'http_503' });
    clock.now = 4_999;
    expect(await outbox.claimDue(10, 1_000)).toEqual([]);
    clock.now = 5_000;
    expect(await outbox.claimDue(10, 1_000)).toEqual([expect.objectContaining({ id: 'a', attempts: 1 })]);
  });

  it('holds back a message whose oncePer key was used within its interval', async () => {
    const clock = { now: 0 };
    const outbox = new MemoryOutbox(() => clock.now);
    const email = (id: string) => ({ ...message(id, 'email'), oncePer: { key: 'email:someone', withinMs: 3_600_000 } });
    const ids = async () => (await outbox.claimDue(10, 1)).map((delivery) => delivery.id);
    await outbox.enqueue([email('first')]);
    clock.now = 3_599_999;
    await outbox.enqueue([email('second')]);
    expect(await ids()).toEqual(['first']);
    clock.now = 3_600_000;
    await outbox.enqueue([email('third')]);
    expect(await ids()).toEqual(['first', 'third']);
  });
});
