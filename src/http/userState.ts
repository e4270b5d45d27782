import type { Request, Response } from 'express';
import type { KratosIdentity } from '../kratos/kratosClient.js';
import { callOptions, requestLocals } from './requestLog.js';
import { planNextStep, type NextStep } from '../verification/nextStep.js';
import type { RecordReading } from '../verification/readRecord.js';
import type { PersonaRecord } from '../verification/record.js';
import { authenticateUser, type AuthenticatedUser } from './authenticateUser.js';
import { HttpError } from './httpError.js';
import type { RouteContext } from './routeContext.js';

/** The session check and the record read are on the user's path: short budgets. */
const SESSION_CHECK_BUDGET_MS = 3_000;
const RECORD_READ_BUDGET_MS = 3_000;

export type UserState = AuthenticatedUser & {
  identity: KratosIdentity;
  reading: RecordReading;
  record: PersonaRecord | null;
  step: NextStep;
  /** Where to send the user back to, already checked against the allowlist. */
  returnTo: string | undefined;
};

/** Who is asking, where they may go back to, what their record says and what comes next. */
export async function readUserState(req: Request, res: Response, context: RouteContext): Promise<UserState> {
  const returnTo = context.returnTo.resolve(req.query['return_to']);
  if (!returnTo.ok) throw new HttpError(400, 'invalid_return_to');
  const user = await authenticateUser(req, {
    kratos: context.kratos,
    linkSigningKeys: context.config.start.linkSigningKeys,
    now: context.now,
    callOptions: callOptions(res, SESSION_CHECK_BUDGET_MS),
  });
  if (user.via === 'link' && user.purpose !== 'verification') {
    throw new HttpError(403, 'link_purpose');
  }
  const stored = await context.store.read(user.identityId, callOptions(res, RECORD_READ_BUDGET_MS));
  if (!stored.found) throw new HttpError(404, 'unknown_identity');
  if (stored.reading.kind === 'unreadable') {
    requestLocals(res).log.error(
      { identity_id: user.identityId, reason: stored.reading.reason },
      'verification record cannot be interpreted; fix or remove metadata_admin.persona',
    );
  }
  return {
    ...user,
    identity: stored.identity,
    reading: stored.reading,
    record: stored.reading.kind === 'record' ? stored.reading.record : null,
    step: planNextStep(stored.reading, context.nextStepRules, context.now()),
    returnTo: returnTo.url,
  };
}
