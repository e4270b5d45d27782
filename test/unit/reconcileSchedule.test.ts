import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createAccountReferences } from '../../src/persona/accountReferences.js';
import type { PersonaApi } from '../../src/persona/personaClient.js';
import { scheduleReconciliation } from '../../src/reconcile/reconcile.js';
import type { RecordStore } from '../../src/verification/recordStore.js';

describe('scheduleReconciliation', () => {
  it('runs on its interval, never two runs at once, until stopped', async () => {
    let running = 0;
    let overlapping = false;
    let runs = 0;
    const persona = {
      listInquiries: async () => {
        running += 1;
        overlapping ||= running > 1;
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 60));
        running -= 1;
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
      { intervalMs: 20, windowMs: 3_600_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    schedule.stop();
    const runsAtStop = runs;
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(runsAtStop).toBeGreaterThanOrEqual(2);
    expect(overlapping).toBe(false);
    expect(runs).toBe(runsAtStop);
  });
});
