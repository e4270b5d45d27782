import type { KratosIdentity } from '../../kratos/kratosClient.js';
import { decideLogin, type LoginPolicy } from '../../policy/loginPolicy.js';
import { readRecord } from '../../verification/readRecord.js';
import { mirrorOf, type DecisionStatuses } from '../../verification/record.js';
import type { EmailTemplate } from '../notice.js';

/**
 * Whether an email asked for earlier still tells the person something true, judged from the
 * identity as Kratos has it when the email is sent: an email that waited out a mail relay's outage
 * must not ask a person who has verified meanwhile to verify. The registration email is needed
 * until the identity has a decision; a login gate's email while the gate would still block the
 * person for the same reason. A record that cannot be interpreted gets no email (its gate block
 * carries no link either).
 */
export function emailStillNeeded(
  template: EmailTemplate,
  identity: Pick<KratosIdentity, 'metadataAdmin' | 'createdAt'>,
  rules: { policy: LoginPolicy; statuses: DecisionStatuses },
  nowMs: number,
): boolean {
  const reading = readRecord(identity.metadataAdmin, rules.statuses);
  if (reading.kind === 'unreadable') return false;
  const record = reading.kind === 'record' ? reading.record : null;
  if (template === 'registration') return record === null || record.decision === null;
  const mirror = record === null ? null : mirrorOf(record);
  const decision = decideLogin(
    { status: mirror?.status ?? null, verifiedAt: mirror?.verified_at ?? null, identityCreatedAt: identity.createdAt },
    rules.policy,
    nowMs,
  );
  return !decision.allow && decision.reason === template;
}
