import { acceptedTemplateIds } from '../../src/services.js';
import type { RedactionAuditEntry } from '../../src/privacy/redactionAudit.js';
import type { RedactionDeps } from '../../src/privacy/redactIdentity.js';
import { sweepDepsWith } from '../../src/privacy/sweep/redactionSweeps.js';
import { decoyTemplateIdsOf, type SweepDeps } from '../../src/privacy/sweep/sweepDeps.js';
import { createMemorySweepState, type SweepState } from '../../src/privacy/sweep/sweepState.js';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { createLogger } from '../../src/logger.js';
import type { Harness } from './harness.js';

/** An identity registered through the initiate hook (its inquiry carries the service's note), then decided. */
export async function registeredAndDecided(h: Harness, status: 'approved' | 'declined') {
  const identity = h.kratos.createIdentity();
  const response = await h.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
  const inquiryId = response.body.inquiry_id as string;
  h.clock.now += 1_000;
  h.persona.setStatus(inquiryId, 'completed');
  h.clock.now += 1_000;
  h.persona.setStatus(inquiryId, status);
  await h.postEvent(h.persona.eventFor(inquiryId, `inquiry.${status}`)).expect(200, { outcome: 'applied' });
  return { identityId: identity.id, inquiryId };
}

export const recordOf = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, any> | undefined;

/** The redaction operations over the harness's own record store, with the audit kept for asserting. */
export function redactionDeps(h: Harness): RedactionDeps & { audited: RedactionAuditEntry[] } {
  const audited: RedactionAuditEntry[] = [];
  return {
    persona: h.personaClient,
    store: h.services.store,
    templateIds: acceptedTemplateIds(h.config),
    audit: async (entry) => void audited.push(entry),
    now: () => h.clock.now,
    audited,
  };
}

/** The sweeps over the harness, as the schedule builds them, with a state that outlives one run. */
export function sweepDeps(
  h: Harness,
  state: SweepState = createMemorySweepState(),
): SweepDeps & { audited: RedactionAuditEntry[]; progress: string[] } {
  const base = redactionDeps(h);
  const progress: string[] = [];
  const deps = sweepDepsWith({
    ...base,
    persona: h.personaClient,
    kratos: createKratosClient(h.config.kratos),
    decoyTemplateIds: decoyTemplateIdsOf(h.config),
    state,
    logger: createLogger({ level: 'silent' }),
    onProgress: (line) => progress.push(line),
  });
  return Object.assign(deps, { audited: base.audited, progress });
}
