import { describe, expect, it } from 'vitest';
import { MAX_WAITING_PER_CHANNEL, MemoryOutbox } from '../../src/coordination/memoryOutbox.js';

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

  it('holds back a message whose oncePer key has one waiting, or one delivered within its interval', async () => {
    const clock = { now: 0 };
    const outbox = new MemoryOutbox(() => clock.now);
    const email = (id: string) => ({ ...message(id, 'email'), oncePer: { key: 'email:someone', withinMs: 3_600_000 } });
    const claimed = async () => await outbox.claimDue(10, 1);
    await outbox.enqueue([email('first')]);
    // The mail relay is down for hours: the first waits, and no second joins it.
    clock.now = 5 * 3_600_000;
    await outbox.enqueue([email('second')]);
    const [first, ...others] = await claimed();
    expect([first?.id, ...others]).toEqual(['first']);
    await outbox.settle(first!, { kind: 'delivered' });
    // Counted from when it went out.
    clock.now += 3_599_999;
    await outbox.enqueue([email('third')]);
    expect(await claimed()).toEqual([]);
    clock.now += 1;
    await outbox.enqueue([email('fourth')]);
    expect((await claimed()).map((delivery) => delivery.id)).toEqual(['fourth']);
  });

  it('lets the next oncePer message in at once after one that was skipped or given up', async () => {
    const outbox = new MemoryOutbox(() => 0);
    const email = (id: string) => ({ ...message(id, 'email'), oncePer: { key: 'email:someone', withinMs: 3_600_000 } });
    await outbox.enqueue([email('skipped')]);
    const [skipped] = await outbox.claimDue(10, 1);
    await outbox.settle(skipped!, { kind: 'skipped', reason: 'no_longer_needed' });
    await outbox.enqueue([email('abandoned')]);
    const [abandoned] = await outbox.claimDue(10, 1);
    expect(abandoned?.id).toBe('abandoned');
    await outbox.settle(abandoned!, { kind: 'abandoned', reason: 'smtp_550' });
    await outbox.enqueue([email('next')]);
    expect((await outbox.claimDue(10, 1)).map((delivery) => delivery.id)).toEqual(['next']);
  });

  it('still takes a message for another channel once one receiver’s retries fill its share (review of issue 18)', async () => {
    const outbox = new MemoryOutbox();
    const waitingForDeadReceiver = Array.from({ length: 10_000 }, (_, index) => ({
      id: `msg_${index.toString(16).padStart(32, '0')}`,
      channel: 'webhook:0123456789abcdef',
      body: {},
    }));
    await outbox.enqueue(waitingForDeadReceiver);
    expect(outbox.size).toBe(10_000);

    await outbox.enqueue([{ id: 'email_for_a_blocked_person', channel: 'email', body: {} }]);
    const due = await outbox.claimDue(20_000, 60_000);
    expect(due.map((delivery) => delivery.channel)).toContain('email');
  });

  it('bounds each channel on its own, and tells of every message it refuses', async () => {
    const dropped: string[] = [];
    const outbox = new MemoryOutbox(Date.now, (refused) => void dropped.push(`${refused.channel} ${refused.id}`));
    const forDeadReceiver = Array.from({ length: MAX_WAITING_PER_CHANNEL + 2 }, (_, index) =>
      message(`msg_${index}`, 'webhook:0123456789abcdef'),
    );
    await outbox.enqueue(forDeadReceiver);
    expect(outbox.size).toBe(MAX_WAITING_PER_CHANNEL);
    expect(dropped).toEqual([
      `webhook:0123456789abcdef msg_${MAX_WAITING_PER_CHANNEL}`,
      `webhook:0123456789abcdef msg_${MAX_WAITING_PER_CHANNEL + 1}`,
    ]);
    await outbox.enqueue([message('for_slack')]);
    expect(outbox.size).toBe(MAX_WAITING_PER_CHANNEL + 1);

    // A settled message makes room in its channel again.
    const [oldest] = await outbox.claimDue(1, 1_000);
    await outbox.settle(oldest!, { kind: 'abandoned', reason: 'http_503' });
    await outbox.enqueue([message('room_again', 'webhook:0123456789abcdef')]);
    expect(dropped).toHaveLength(2);
  });

  it('takes no message of a channel the relay is still busy with', async () => {
    const outbox = new MemoryOutbox(() => 0);
    await outbox.enqueue([message('a', 'webhook:hung'), message('b'), message('c', 'webhook:hung')]);
    const due = await outbox.claimDue(10, 1_000, new Set(['webhook:hung']));
    expect(due.map((delivery) => delivery.id)).toEqual(['b']);
  });
});
