import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../src/coordination/postgres/advisoryKeys.js';
import { serviceNote } from '../../src/persona/inquiry.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { PERSONA_API_KEY, TEMPLATE_ID, baseEnv, personaSignature } from '../support/harness.js';
import { serveService, type ServedService } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Several replicas of the service against one Kratos that answers in 5-50 ms, 200 identities, each
 * with inquiry.created, .started, .completed and then .approved or .declined, duplicated at random,
 * sent concurrently to replicas picked at random; Persona delivers again whatever was not answered
 * 2xx. Counted from what Kratos received: identities left in a wrong state, and events applied more
 * than once (a PATCH writing the record and its public mirror with the event as the last one and its
 * status; a decline's session revocation is recorded by a second PATCH of the record alone, and a
 * re-check after a lost lock writes Persona's current status under the last event's id).
 */

const IDENTITIES = 200;
const DUPLICATE_SHARE = 0.3;
const random = (min: number, max: number) => min + Math.random() * (max - min);

interface Delivery {
  body: string;
  eventId: string;
}

interface Scenario {
  /** Per identity, its deliveries in Persona's order, with the wait before each (ms). */
  sequences: { delivery: Delivery; waitMs: number }[][];
  /** Per identity, the decision event that must end up on the record. */
  expected: Map<string, { status: string; eventId: string }>;
}

function scenario(persona: PersonaStandIn, kratos: KratosStandIn): Scenario {
  const sequences: Scenario['sequences'] = [];
  const expected: Scenario['expected'] = new Map();
  const start = Date.now() - 3_600_000;
  for (let index = 0; index < IDENTITIES; index += 1) {
    const identity = kratos.createIdentity();
    const createdAt = start + index * 10_000;
    const inquiry = persona.addInquiry({
      referenceId: identity.id,
      status: 'created',
      createdAt: new Date(createdAt).toISOString(),
      note: serviceNote('onboarding'),
    });
    const decision = Math.random() < 0.5 ? 'approved' : 'declined';
    // Persona's pace: the user starts, completes; the decision follows the completion within 0-30 ms.
    const steps = [
      { status: 'created', name: 'inquiry.created', at: createdAt, waitMs: random(0, 200) },
      { status: 'pending', name: 'inquiry.started', at: createdAt + 40_000, waitMs: random(5, 50) },
      { status: 'completed', name: 'inquiry.completed', at: createdAt + 200_000, waitMs: random(5, 50) },
    ];
    const decidedAfterMs = Math.floor(random(0, 31));
    steps.push({
      status: decision,
      name: `inquiry.${decision}`,
      at: createdAt + 200_000 + decidedAfterMs,
      waitMs: decidedAfterMs,
    });
    const sequence: Scenario['sequences'][number] = [];
    for (const step of steps) {
      persona.setStatus(inquiry.id, step.status);
      const event = persona.eventFor(inquiry.id, step.name, { createdAt: new Date(step.at).toISOString() });
      const delivery = { body: JSON.stringify(event), eventId: event.data.id };
      sequence.push({ delivery, waitMs: step.waitMs });
      if (Math.random() < DUPLICATE_SHARE) sequence.push({ delivery, waitMs: random(0, 30) });
      if (step.status === decision) {
        expected.set(identity.id, {
          status: decision,
          eventId: event.data.id,
        });
      }
    }
    sequences.push(sequence);
  }
  return { sequences, expected };
}

interface RunResult {
  wrong: number;
  appliedTwice: number;
  deliveries: number;
  redeliveries: number;
}

/**
 * Identities not in their decision, and events applied more than once. `lastEvent`: the decision
 * must also be the last event applied (a re-check after a lost lock applies Persona's state without
 * an event, keeping the id of the last one).
 */
function count(
  kratos: KratosStandIn,
  expected: Scenario['expected'],
  lastEvent: boolean,
): { wrong: number; appliedTwice: number } {
  let wrong = 0;
  let appliedTwice = 0;
  for (const [identityId, decision] of expected) {
    const record = kratos.identity(identityId)?.metadata_admin?.['persona'] as PersonaRecord | undefined;
    const standing = record?.decision?.outcome;
    const last = record?.last_event_id;
    if (record?.status !== decision.status || standing !== decision.status || (lastEvent && last !== decision.eventId))
      wrong += 1;
    const written = new Map<string, number>();
    for (const request of kratos.requests) {
      if (request.method !== 'PATCH' || request.path !== `/admin/identities/${identityId}` || request.status !== 200)
        continue;
      const operations = request.body as { path: string; value: { last_event_id?: string; status?: string } }[];
      if (!operations.some((operation) => operation.path === '/metadata_public/persona')) continue;
      const value = operations.find((operation) => operation.path === '/metadata_admin/persona')?.value;
      if (value?.last_event_id === undefined) continue;
      const write = `${value.last_event_id} ${value.status}`;
      written.set(write, (written.get(write) ?? 0) + 1);
    }
    appliedTwice += [...written.values()].filter((times) => times > 1).length;
  }
  return { wrong, appliedTwice };
}

/** Delivers like Persona: signed, and again after a non-2xx answer or a failed connection. */
async function deliver(urls: string[], delivery: Delivery, counts: { deliveries: number; redeliveries: number }) {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    counts.deliveries += 1;
    const url = urls[Math.floor(Math.random() * urls.length)] as string;
    try {
      const response = await fetch(`${url}/persona/callback`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Persona-Signature': personaSignature(delivery.body) },
        body: delivery.body,
      });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Delivered again below, as Persona would.
    }
    counts.redeliveries += 1;
    await sleep(random(20, 100));
  }
  throw new Error(`event ${delivery.eventId} was never accepted`);
}

async function run(
  kratos: KratosStandIn,
  persona: PersonaStandIn,
  urls: string[],
  order: 'in order' | 'shuffled',
  options: {
    /** Disturbs the run while its deliveries are under way; resolves when done disturbing. */
    disturb?: (running: () => boolean) => Promise<void>;
    /** Resolves once the deployment has settled after the deliveries (re-checks done). */
    settled?: (counted: () => { wrong: number }) => Promise<void>;
  } = {},
): Promise<RunResult> {
  const { sequences, expected } = scenario(persona, kratos);
  const counts = { deliveries: 0, redeliveries: 0 };
  let delivering = true;
  const disturbed = options.disturb?.(() => delivering);
  if (order === 'in order') {
    await Promise.all(
      sequences.map(async (sequence) => {
        const sent: Promise<void>[] = [];
        for (const { delivery, waitMs } of sequence) {
          await sleep(waitMs);
          sent.push(deliver(urls, delivery, counts));
        }
        await Promise.all(sent);
      }),
    );
  } else {
    const all = sequences.flat().map(({ delivery }) => delivery);
    all.sort(() => Math.random() - 0.5);
    const inFlight = 64;
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < all.length) await deliver(urls, all[next++] as Delivery, counts);
      }),
    );
  }
  delivering = false;
  await disturbed;

  const lastEvent = options.settled === undefined;
  await options.settled?.(() => count(kratos, expected, lastEvent));
  return { ...count(kratos, expected, lastEvent), ...counts };
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

/** `replicas` instances of the service, each on its own loopback port, sharing one Kratos and one Persona. */
async function deployment(replicas: number, env: Record<string, string>) {
  const kratos = await startKratosStandIn({ latencyMs: () => random(5, 50) });
  const persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
  const instances: ServedService[] = [];
  for (let index = 0; index < replicas; index += 1)
    instances.push(await serveService({ ...baseEnv(kratos, persona.apiBase), LOG_LEVEL: 'silent', ...env }));
  return {
    kratos,
    persona,
    urls: instances.map((instance) => instance.url),
    async close() {
      for (const instance of instances) await instance.close();
      await Promise.all([kratos.close(), persona.close()]);
    },
  };
}

describe.each([
  { replicas: 3, database: true },
  { replicas: 1, database: false },
])('$replicas replica(s), database: $database', ({ replicas, database: withDatabase }) => {
  it.each(['in order', 'shuffled'] as const)(
    'ends every identity in its decision and applies no event twice, events sent %s',
    async (order) => {
      const schema = `replicas_${replicas}_${order.replace(' ', '_')}`;
      const env: Record<string, string> = withDatabase ? { DATABASE_URL: database.url, DATABASE_SCHEMA: schema } : {};
      const setup = await deployment(replicas, env);
      try {
        const result = await run(setup.kratos, setup.persona, setup.urls, order);
        expect(result).toMatchObject({ wrong: 0, appliedTwice: 0 });
        expect(result.deliveries).toBeGreaterThan(IDENTITIES * 4);
      } finally {
        await setup.close();
      }
    },
    60_000,
  );
});

describe('3 replicas without a database (what DATABASE_URL prevents)', () => {
  it('interleave their read-modify-writes: the test above can fail', async () => {
    const setup = await deployment(3, {});
    try {
      const result = await run(setup.kratos, setup.persona, setup.urls, 'in order');
      expect(result.wrong + result.appliedTwice).toBeGreaterThan(0);
    } finally {
      await setup.close();
    }
  }, 60_000);
});

/**
 * What breaks a section's exclusivity from outside: its database session ends (a failover or a
 * restart ends them all; here one lock holder at a time), or Kratos carries a write out later than
 * the section waited for it. Every identity ends in its decision once the re-checks after lost
 * locks are done. A write already on its way when its session is cut cannot be called back (Kratos
 * has no compare-and-set: README, "When a replica loses its database connection"), so the event's
 * redelivery may write the same change again beside it: at most once per cut, never for a slow
 * write alone, which the section holds its lock for.
 */
describe('3 replicas with DATABASE_URL, sessions cut and Kratos writes slow meanwhile', () => {
  const CUTS = 8;
  const SLOW_WRITES = 6;
  const [namespace] = identityKey('any identity');

  it('ends every identity in its decision, writing an event twice only where a cut caught its write', async () => {
    const setup = await deployment(3, { DATABASE_URL: database.url, DATABASE_SCHEMA: 'replicas_disturbed' });
    const done = { cuts: 0, slowWrites: 0 };
    const disturb = async (running: () => boolean) => {
      while (running() && (done.cuts < CUTS || done.slowWrites < SLOW_WRITES)) {
        await sleep(random(100, 300));
        if (done.cuts < CUTS && (Math.random() < 0.5 || done.slowWrites >= SLOW_WRITES)) {
          // One session holding an identity's lock, whichever: leadership and probes are left alone.
          const cut = await database.query(
            `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND classid::bigint = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             LIMIT 1`,
            [namespace],
          );
          done.cuts += cut.rowCount ?? 0;
        } else {
          // Within the callback's budget (waited for) or beyond it (given up on, and landing later).
          setup.kratos.inject({ method: 'PATCH', delayMs: Math.random() < 0.5 ? 3_000 : 4_600 });
          done.slowWrites += 1;
        }
      }
    };
    const settled = async (counted: () => { wrong: number }) => {
      for (let attempt = 0; attempt < 150; attempt += 1) {
        const landing = setup.kratos.requests.some((request) => request.status === 0);
        if (!landing && counted().wrong === 0) return;
        await sleep(200);
      }
    };
    try {
      const result = await run(setup.kratos, setup.persona, setup.urls, 'in order', { disturb, settled });
      expect(result.wrong).toBe(0);
      expect(result.appliedTwice).toBeLessThanOrEqual(done.cuts);
      expect(done.cuts).toBeGreaterThan(0);
      expect(done.slowWrites).toBeGreaterThan(0);
    } finally {
      await setup.close();
    }
  }, 120_000);
});
