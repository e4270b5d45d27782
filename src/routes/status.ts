import { type IRouter, type RequestHandler } from 'express';
import { userFacingHeaders } from '../http/pages.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { userCors } from '../http/userCors.js';
import { userErrors } from '../http/userErrors.js';
import { readUserState } from '../http/userState.js';
import { needsUser } from '../verification/nextStep.js';
import type { StartTarget } from '../http/startLinks.js';
import { stepUpStatus } from '../stepUp/stepUpStatus.js';
import { publicStatus } from '../verification/publicStatus.js';

const PERSONA_BUDGET_MS = 5_000;

/**
 * The user's verification state as JSON, for single-page apps: whether they must go through Persona
 * and the link that takes them there. With the embedded SDK it also carries what the SDK needs.
 * With `max_age` (or `purpose=step_up`) it answers whether an approval that fresh exists, so an
 * application can gate its own risky actions as the settings gate does.
 */
export function statusRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;

  const handle: RequestHandler = async (req, res) => {
    const state = await readUserState(req, res, context);
    const { step } = state;
    Object.assign(requestLocals(res).logFields, {
      identity_id: state.identityId,
      via: state.via,
      purpose: state.purpose,
      step: step.kind,
    });

    const required = needsUser(step);
    const target: StartTarget =
      state.purpose === 'step_up' ? { purpose: 'step_up', maxAge: state.maxAge } : { purpose: 'verification' };
    // A caller who came with a signed link gets the same link back: its expiry is never extended.
    const verifyUrl = !required
      ? null
      : state.via === 'link'
        ? context.links.withToken(state.token, state.returnTo, target)
        : context.links.forSession(state.returnTo, target);
    const body: Record<string, unknown> = {
      ...publicStatus(state.record),
      verification_required: required,
      verify_url: verifyUrl,
      inquiry_id: step.kind === 'open' || step.kind === 'resume' ? step.inquiryId : (state.record?.inquiry_id ?? null),
    };
    if (state.purpose === 'step_up') body['step_up'] = stepUpStatus(state.record, step, state.maxAgeMs);
    if (config.persona.inquiryType === 'embedded' && (step.kind === 'open' || step.kind === 'resume')) {
      const entry = await context.personaEntries.enter(
        state.identityId,
        step,
        state.returnTo,
        callOptions(res, PERSONA_BUDGET_MS),
      );
      body['session_token'] = entry.sessionToken;
    }
    res.status(200).json(body);
  };

  const crossOrigin = userCors(context.returnTo);
  router.options('/persona/status', crossOrigin);
  router.get('/persona/status', crossOrigin, userFacingHeaders, handle, userErrors(context));
}
