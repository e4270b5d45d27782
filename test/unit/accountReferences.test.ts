import { describe, expect, it } from 'vitest';
import { OutboundError } from '../../src/outbound/outboundError.js';
import { createAccountReferences } from '../../src/persona/accountReferences.js';
import type { PersonaApi } from '../../src/persona/personaClient.js';

/** A Persona whose accounts carry `ref-<id>`, counting the lookups; `failing` ones answer 503. */
function persona(failing = new Set<string>()) {
  const lookups: string[] = [];
  const api = {
    getAccount: async (accountId: string) => {
      lookups.push(accountId);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failing.has(accountId)) throw new OutboundError('persona', 'getAccount', { kind: 'status', status: 503 });
      return { id: accountId, referenceId: `ref-${accountId}` };
    },
  } as unknown as PersonaApi;
  return { api, lookups };
}

const inquiry = (accountId: string | undefined, referenceId: string | null | undefined = null) => ({
  id: 'inq_x',
  referenceId,
  accountId,
});

describe('accountReferences', () => {
  it("answers the inquiry's own reference id without asking Persona", async () => {
    const { api, lookups } = persona();
    const references = createAccountReferences(api);
    expect(await references.referenceIdOf(inquiry('act_a', 'mine'), {})).toBe('mine');
    expect(await references.referenceIdOf(inquiry(undefined), {})).toBeNull();
    expect(await references.referenceIdOf({ id: 'inq_x' }, {})).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  it("reads the account's once, sharing a lookup under way", async () => {
    const { api, lookups } = persona();
    const references = createAccountReferences(api);
    const answers = await Promise.all([1, 2, 3].map(() => references.referenceIdOf(inquiry('act_a'), {})));
    expect(answers).toEqual(['ref-act_a', 'ref-act_a', 'ref-act_a']);
    expect(await references.referenceIdOf(inquiry('act_a'), {})).toBe('ref-act_a');
    expect(lookups).toEqual(['act_a']);
  });

  it('forgets the least recently used account beyond its bound', async () => {
    const { api, lookups } = persona();
    const references = createAccountReferences(api, 2);
    for (const account of ['act_a', 'act_b', 'act_a', 'act_c', 'act_a', 'act_b']) {
      await references.referenceIdOf(inquiry(account), {});
    }
    // act_b was the least recently used when act_c came, so it was read again; act_a never was.
    expect(lookups).toEqual(['act_a', 'act_b', 'act_c', 'act_b']);
  });

  it('does not remember a failed lookup', async () => {
    const failing = new Set(['act_a']);
    const { api, lookups } = persona(failing);
    const references = createAccountReferences(api);
    await expect(references.referenceIdOf(inquiry('act_a'), {})).rejects.toThrow(OutboundError);
    failing.clear();
    expect(await references.referenceIdOf(inquiry('act_a'), {})).toBe('ref-act_a');
    expect(lookups).toEqual(['act_a', 'act_a']);
  });
});
