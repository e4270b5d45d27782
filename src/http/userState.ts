import type { Request, Response } from 'express';
import type { KratosIdentity } from '../kratos/kratosClient.js';
import { callOptions, requestLocals } from './requestLog.js';
import { parseDuration } from '../duration.js';
import { planStepUp } from '../stepUp/planStepUp.js';
import { planNextStep, type NextStep } from '../verification/nextStep.js';
import type { RecordReading } from '../verification/readRecord.js';
import type { PersonaRecord } from '../verification/record.js';
import { authenticateUser, type AuthenticatedUser } from './authenticateUser.js';
import { HttpError } from './httpError.js';
import type { RouteContext } from './routeContext.js';

/** The session check and the record read are on the user's path: short budgets. */
const SESSION_CHECK_BUDGET_MS = 3_000;
const RECORD_READ_BUDGET_MS = 3_000;

/**
 * What the user came for: their identity's verification, or a step-up: an approval no older than
 * `maxAgeMs` (STEP_UP_MAX_AGE, or the application's `max_age`).
 */
export type UserPurpose =
  | { purpose: 'verification' }
  | {
      purpose: 'step_up';
      maxAgeMs: number;
      /** As the caller wrote it, for the links handed back. */ maxAge: string | undefined;
    };

/** An application may ask for any age from a minute (less could never be met) to a year. */
const MAX_AGE_BOUNDS_MS = [60_000, 366 * 86_400_000] as const;

function purposeOf(query: Request['query'], stepUpMaxAgeMs: number): UserPurpose {
  const { purpose, max_age: maxAge } = query;
  if (purpose !== undefined && purpose !== 'verification' && purpose !== 'step_up') {
    throw new HttpError(400, 'invalid_purpose');
  }
  if (maxAge === undefined)
    return purpose === 'step_up' ? { purpose, maxAgeMs: stepUpMaxAgeMs, maxAge } : { purpose: 'verification' };
  const ms = typeof maxAge === 'string' ? parseDuration(maxAge) : undefined;
  if (purpose === 'verification' || ms === undefined || ms < MAX_AGE_BOUNDS_MS[0] || ms > MAX_AGE_BOUNDS_MS[1]) {
    throw new HttpError(400, 'invalid_max_age');
  }
  return { purpose: 'step_up', maxAgeMs: ms, maxAge: maxAge as string };
}

export type UserState = AuthenticatedUser &
  UserPurpose & {
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
  const asked = purposeOf(req.query, context.config.stepUp.maxAgeMs);
  // A signed link grants only what it was issued for: a step-up link never opens the identity's
  // own verification, a recovery token never comes here.
  if (user.via === 'link' && user.purpose !== asked.purpose) {
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
  const now = context.now();
  return {
    ...user,
    ...asked,
    identity: stored.identity,
    reading: stored.reading,
    record: stored.reading.kind === 'record' ? stored.reading.record : null,
    step:
      asked.purpose === 'step_up'
        ? planStepUp(
            stored.reading,
            context.nextStepRules,
            { maxAgeMs: asked.maxAgeMs, withTemplate: context.config.stepUp.templateId !== undefined },
            now,
          )
        : planNextStep(stored.reading, context.nextStepRules, now),
    returnTo: returnTo.url,
  };
}
