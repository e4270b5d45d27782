import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoordinationError } from '../../src/coordination/coordination.js';
import { createLogger } from '../../src/logger.js';
import { OutboundError } from '../../src/outbound/outboundError.js';
import { createAccountReferences } from '../../src/persona/accountReferences.js';
import type { Inquiry } from '../../src/persona/inquiry.js';
import type { PersonaApi } from '../../src/persona/personaClient.js';
import { Rechecks } from '../../src/reconcile/rechecks.js';
import type { RecordStore } from '../../src/verification/recordStore.js';

const IDENTITY = '6f1c6f5e-4c8e-4d0e-9d5b-2b8f7f3c1a01';
const OTHER = '0b7e2c1d-9a3f-4f6e-8c2d-5e4a3b2c1d00';

const inquiryOf = (identityId: string): Inquiry => ({
  id: `inq_${identityId.slice(0, 8)}`,
  status: 'declined',
  referenceId: identityId,
  templateId: 'itmpl_A',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:10:00.000Z',
  openedByService: true,
});

/** Rechecks over a Persona that lists one declined inquiry per identity and a store that fails `failures` times first. */
function rechecksWith(failures: number, updateMs = 0, accountFailures = 0) {
  const log: Record<string, unknown>[] = [];
  const state = { updates: [] as string[], running: 0, overlapping: false, failures, accountFailures };
  const persona = {
    // Each identity's account is named after it.
    findAccounts: async (referenceId: string) => {
      if (state.accountFailures > 0) {
        state.accountFailures -= 1;
        throw new OutboundError('persona', 'findAccounts', { kind: 'status', status: 503 });
      }
      return [{ id: `act_${referenceId}`, referenceId }];
    },
    listInquiries: async ({ accountIds }: { accountIds: string[] }) => ({
      inquiries: accountIds.map((accountId) => inquiryOf(accountId.replace(/^act_/, ''))),
      next: undefined,
    }),
  } as unknown as PersonaApi;
  const store = {
    update: async (identityId: string) => {
      state.running += 1;
      state.overlapping ||= state.running > 1;
      if (updateMs > 0) await new Promise((resolve) => setTimeout(resolve, updateMs));
      state.running -= 1;
      state.updates.push(identityId);
      if (state.failures > 0) {
        state.failures -= 1;
        throw new CoordinationError('unavailable', 'ECONNREFUSED');
      }
      return { outcome: 'applied', record: null };
    },
  } as unknown as RecordStore;
  const rechecks = new Rechecks({
    persona,
    accountReferences: createAccountReferences(persona),
    store,
    rules: { statuses: { approved: new Set(), declined: new Set(['declined']) }, purposeTemplates: {} },
    templateIds: ['itmpl_A'],
    logger: createLogger({ level: 'info' }, { write: (line: string) => void log.push(JSON.parse(line)) }),
  });
  return { rechecks, state, log };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Rechecks', () => {
  it('reconciles the identity once its write had time to land, and says so', async () => {
    const { rechecks, state, log } = rechecksWith(0);
    rechecks.schedule(IDENTITY, 2_000);
    rechecks.schedule(IDENTITY, 2_000);
    expect(log.map((line) => line['msg'])).toEqual([
      expect.stringContaining('may have landed after its lock was lost'),
    ]);

    await vi.advanceTimersByTimeAsync(1_999);
    expect(state.updates).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.updates).toEqual([IDENTITY]);
    expect(log.at(-1)).toMatchObject({
      identity_id: IDENTITY,
      changed: 1,
      msg: 'identity re-checked after a lost lock',
    });
  });

  it('tries again while the database is away, then asks for reconciliation', async () => {
    const { rechecks, state, log } = rechecksWith(2);
    rechecks.schedule(IDENTITY, 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.updates).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(state.updates).toHaveLength(3);
    expect(log.at(-1)).toMatchObject({ msg: 'identity re-checked after a lost lock' });

    const never = rechecksWith(10);
    never.rechecks.schedule(IDENTITY, 2_000);
    await vi.advanceTimersByTimeAsync(2_000 + 5_000 + 15_000 + 60_000 + 300_000);
    expect(never.state.updates).toHaveLength(5);
    expect(never.log.at(-1)).toMatchObject({
      level: 50,
      identity_id: IDENTITY,
      msg: expect.stringContaining('reconcile'),
    });
  });

  it('tries again while Persona cannot name the identity’s account', async () => {
    const { rechecks, state, log } = rechecksWith(0, 0, 1);
    rechecks.schedule(IDENTITY, 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(state.updates).toEqual([]);
    expect(log.at(-1)).toMatchObject({ msg: "reconciliation could not find the identity's Persona account" });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(state.updates).toEqual([IDENTITY]);
    expect(log.at(-1)).toMatchObject({ msg: 'identity re-checked after a lost lock' });
  });

  it('folds a write into a re-check still waiting, but not into one already running', async () => {
    const { rechecks, state } = rechecksWith(0, 1_000);
    rechecks.schedule(IDENTITY, 100);
    rechecks.schedule(IDENTITY, 500);
    await vi.advanceTimersByTimeAsync(600);
    expect(state.running).toBe(1);
    // This write was sent while the re-check read the record: only a later re-check sees it.
    rechecks.schedule(IDENTITY, 100);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(state.updates).toEqual([IDENTITY, IDENTITY]);
  });

  it('runs one re-check at a time, and none after it was stopped', async () => {
    const { rechecks, state } = rechecksWith(0, 1_000);
    rechecks.schedule(IDENTITY, 100);
    rechecks.schedule(OTHER, 100);
    await vi.advanceTimersByTimeAsync(2_200);
    expect(state.updates.sort()).toEqual([IDENTITY, OTHER].sort());
    expect(state.overlapping).toBe(false);

    const stopped = rechecksWith(0);
    stopped.rechecks.schedule(IDENTITY, 100);
    stopped.rechecks.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped.state.updates).toEqual([]);
  });
});
