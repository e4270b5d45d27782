import { describe, expect, it } from 'vitest';
import type { Leadership } from '../../src/coordination/coordination.js';
import { createLogger } from '../../src/logger.js';
import { createAccountReferences } from '../../src/persona/accountReferences.js';
import type { PersonaApi } from '../../src/persona/personaClient.js';
import { scheduleReconciliation } from '../../src/reconcile/reconcile.js';
import type { RecordStore } from '../../src/verification/recordStore.js';
import { setTimeout as sleep } from 'node:timers/promises';

function scheduled(leadership: Leadership, listDelayMs = 60) {
  const state = { running: 0, overlapping: false, runs: 0 };
  const persona = {
    listInquiries: async () => {
      state.running += 1;
      state.overlapping ||= state.running > 1;
      state.runs += 1;
      await sleep(listDelayMs);
      state.running -= 1;
      return { inquiries: [], next: undefined };
    },
  } as unknown as PersonaApi;
  const schedule = scheduleReconciliation(
    {
      persona,
      accountReferences: createAccountReferences(persona),
      store: {} as RecordStore,
      rules: {
        statuses: { approved: new Set(), declined: new Set() },
        purposeTemplates: {},
      },
      templateIds: ['itmpl_A'],
      logger: createLogger({ level: 'silent' }),
    },
    { intervalMs: 20, windowMs: 3_600_000, leadership },
  );
  return { state, schedule };
}

describe('scheduleReconciliation', () => {
  it('runs on its interval, never two runs at once, until stopped', async () => {
    let released = 0;
    const { state, schedule } = scheduled({ claim: async () => true, release: async () => void (released += 1) });
    await sleep(300);
    await schedule.stop();
    const runsAtStop = state.runs;
    await sleep(150);

    expect(runsAtStop).toBeGreaterThanOrEqual(2);
    expect(state.overlapping).toBe(false);
    expect(state.runs).toBe(runsAtStop);
    expect(released).toBe(1);
  });

  it('runs only while this replica leads, asking at every tick', async () => {
    let leading = false;
    let claims = 0;
    const { state, schedule } = scheduled({
      claim: async () => {
        claims += 1;
        return leading;
      },
      release: async () => undefined,
    });
    await sleep(150);
    expect(claims).toBeGreaterThanOrEqual(3);
    expect(state.runs).toBe(0);

    leading = true;
    await sleep(150);
    await schedule.stop();
    expect(state.runs).toBeGreaterThanOrEqual(1);
  });
});
