import { describe, expect, it } from 'vitest';
import { MemoryOutbox } from '../../src/coordination/memoryOutbox.js';
import { createLogger } from '../../src/logger.js';
import type { Channel, DeliveryResult } from '../../src/notifications/channel.js';
import { createRelay, type RelayResult } from '../../src/notifications/relay.js';

const HOUR = 3_600_000;

/** A channel that answers from a script and records what it was given. */
function scriptedChannel(kind: string, answers: (DeliveryResult | Error)[]) {
  const seen: string[] = [];
  const channel: Channel = {
    kind,
    async deliver(delivery) {
      seen.push(delivery.id);
      const answer = answers.shift() ?? { kind: 'delivered' };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { channel, seen };
}

function relayWith(channels: Record<string, Channel>, options: { leading?: boolean } = {}) {
  const clock = { now: 0 };
  const outbox = new MemoryOutbox(() => clock.now);
  const counted: string[] = [];
  const lines: string[] = [];
  const relay = createRelay({
    outbox,
    channelFor: (name) => channels[name],
    leadership: { claim: async () => options.leading ?? true, release: async () => undefined },
    retryForMs: 24 * HOUR,
    logger: createLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    now: () => clock.now,
    count: (kind: string, result: RelayResult) => void counted.push(`${kind} ${result}`),
    scheduleMs: [1_000],
  });
  return { clock, outbox, relay, counted, lines };
}

const failed = (reason: string, permanent = false): DeliveryResult => ({ kind: 'failed', reason, permanent });

describe('the relay', () => {
  it('sends each message to its channel, one channel in order, and settles it', async () => {
    const slack = scriptedChannel('slack', []);
    const { outbox, relay, counted } = relayWith({ slack: slack.channel });
    await outbox.enqueue(['a', 'b', 'c'].map((id) => ({ id, channel: 'slack', body: {} })));
    await relay.runOnce();
    expect(slack.seen).toEqual(['a', 'b', 'c']);
    expect(counted).toEqual(['slack delivered', 'slack delivered', 'slack delivered']);
    expect(outbox.size).toBe(0);
  });

  it('tries a failure again when it is due, and a channel that throws counts as a failure', async () => {
    const slack = scriptedChannel('slack', [failed('http_503'), new Error('bug')]);
    const { clock, outbox, relay, counted } = relayWith({ slack: slack.channel });
    await outbox.enqueue([{ id: 'a', channel: 'slack', body: {} }]);
    await relay.runOnce();
    await relay.runOnce();
    expect(slack.seen).toEqual(['a']);
    clock.now = 1_200;
    await relay.runOnce();
    clock.now = 5_000;
    await relay.runOnce();
    expect(slack.seen).toEqual(['a', 'a', 'a']);
    expect(counted).toEqual(['slack retried', 'slack retried', 'slack delivered']);
  });

  it('gives up at the end of NOTIFY_RETRY_FOR, at once when trying again cannot help, and says so', async () => {
    const webhook = scriptedChannel('webhook', [failed('http_410', true)]);
    const slack = scriptedChannel(
      'slack',
      Array.from({ length: 100 }, () => failed('http_500')),
    );
    const { clock, outbox, relay, counted, lines } = relayWith({ 'webhook:x': webhook.channel, slack: slack.channel });
    await outbox.enqueue([
      { id: 'gone', channel: 'webhook:x', body: {} },
      { id: 'down', channel: 'slack', body: {} },
      { id: 'orphan', channel: 'webhook:removed', body: {} },
    ]);
    await relay.runOnce();
    clock.now = 24 * HOUR;
    await relay.runOnce();
    expect(counted.filter((entry) => entry.endsWith('abandoned')).sort()).toEqual([
      'slack abandoned',
      'webhook abandoned',
      'webhook abandoned',
    ]);
    expect(outbox.size).toBe(0);
    const givenUp = lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'notification given up');
    expect(givenUp.map((line) => line.reason).sort()).toEqual(['channel_not_configured', 'http_410', 'http_500']);
  });

  it('sends nothing on a replica that does not lead', async () => {
    const slack = scriptedChannel('slack', []);
    const { outbox, relay } = relayWith({ slack: slack.channel }, { leading: false });
    await outbox.enqueue([{ id: 'a', channel: 'slack', body: {} }]);
    await relay.runOnce();
    expect(slack.seen).toEqual([]);
    expect(outbox.size).toBe(1);
  });

  it('gives each channel a lane of its own: one that hangs holds up no other, and stopping cuts it short', async () => {
    const slack = scriptedChannel('slack', []);
    const hungSignals: AbortSignal[] = [];
    const hung: Channel = {
      kind: 'webhook',
      deliver: (_delivery, signal) =>
        new Promise((resolve) => {
          hungSignals.push(signal);
          signal.addEventListener('abort', () => resolve(failed('timeout')), { once: true });
        }),
    };
    const { outbox, relay, counted } = relayWith({ 'webhook:hung': hung, slack: slack.channel });
    await outbox.enqueue([
      { id: 'h1', channel: 'webhook:hung', body: {} },
      { id: 's1', channel: 'slack', body: {} },
      { id: 'h2', channel: 'webhook:hung', body: {} },
    ]);
    relay.start();
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await until(() => slack.seen.length === 1 && hungSignals.length === 1);
    await outbox.enqueue([
      { id: 's2', channel: 'slack', body: {} },
      { id: 'h3', channel: 'webhook:hung', body: {} },
    ]);
    relay.wake();
    await until(() => slack.seen.length === 2);
    expect(slack.seen).toEqual(['s1', 's2']);
    // The hung channel's later messages wait for its lane: never two attempts of one channel at once.
    expect(hungSignals.map((signal) => signal.aborted)).toEqual([false]);

    // The attempt timeout is 15 s, past this test's own: only the stop can end it in time.
    await relay.stop();
    expect(hungSignals.map((signal) => signal.aborted)).toEqual([true]);
    expect(counted).toEqual(['slack delivered', 'slack delivered', 'webhook retried']);
    // h2 and h3 were never attempted: they wait for the next relay.
    expect(outbox.size).toBe(3);
  });
});
