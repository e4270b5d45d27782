import { type IRouter, type Request, type RequestHandler, type Response } from 'express';
import { respondWith, userFacingHeaders, type Page } from '../http/pages.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { userCors } from '../http/userCors.js';
import { userErrors } from '../http/userErrors.js';
import { readUserState, type UserState } from '../http/userState.js';
import { HttpError } from '../http/httpError.js';
import { wayForward, type Offers } from '../http/wayForward.js';
import { entryStatus, type EntryStep } from '../persona/personaEntry.js';
import { templateFor } from '../services.js';
import { STEP_UP_UNAVAILABLE } from '../stepUp/planStepUp.js';
import { openInquiry } from '../verification/openInquiry.js';
import { publicStatus } from '../verification/publicStatus.js';

/** A user is waiting: Persona gets a few seconds to create or resume, Kratos the rest. */
const PERSONA_BUDGET_MS = 5_000;
const KRATOS_BUDGET_MS = 3_000;

/** How to enter an inquiry that exists, by its status; undefined when it cannot be entered. */
const entryStep = (inquiryId: string, status: string | null): EntryStep | undefined =>
  status === 'created'
    ? { kind: 'open', inquiryId }
    : status === 'pending' || status === 'expired'
      ? { kind: 'resume', inquiryId, expired: status === 'expired' }
      : undefined;

/** What start tells a user it sends nowhere, and the ways on: the app, and support after a refusal. */
const INFORMATION: Record<
  'verified' | 'in_review' | 'declined' | 'failed' | 'step_up_unavailable',
  { page: Page; offers: Offers }
> = {
  verified: { page: { title: 'page.verified.title', message: 'page.verified.message' }, offers: {} },
  in_review: { page: { title: 'page.in_review.title', message: 'page.in_review.message' }, offers: { continue: true } },
  declined: { page: { title: 'page.declined.title', message: 'page.declined.message' }, offers: { support: true } },
  failed: { page: { title: 'page.failed.title', message: 'page.failed.message' }, offers: { support: true } },
  step_up_unavailable: {
    page: { title: 'page.step_up_unavailable.title', message: 'page.step_up_unavailable.message' },
    offers: { support: true },
  },
};

export function startRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;
  /** The record cannot be interpreted, or the inquiry cannot be entered: nothing is started. */
  const unavailable = () => new HttpError(503, 'verification_unavailable');

  async function sendToPersona(res: Response, state: UserState, step: EntryStep) {
    const entry = await context.personaEntries.enter(
      state.identityId,
      step,
      state.returnTo,
      callOptions(res, PERSONA_BUDGET_MS),
    );
    if (config.persona.inquiryType === 'embedded') {
      res
        .status(200)
        .json({ status: entryStatus(step), inquiry_id: entry.inquiryId, session_token: entry.sessionToken });
    } else {
      res.redirect(303, entry.url);
    }
  }

  /** A page for a state the user cannot change here, with the ways on from it. */
  function inform(req: Request, res: Response, state: UserState, kind: keyof typeof INFORMATION) {
    const { page, offers } = INFORMATION[kind];
    respondWith(
      req,
      res,
      200,
      context.messages.negotiate(req.get('accept-language')),
      { ...page, links: wayForward(req, context, offers) },
      { ...publicStatus(state.record), verification_required: false, verify_url: null },
    );
  }

  const handle: RequestHandler = async (req, res) => {
    const state = await readUserState(req, res, context);
    const { step } = state;
    Object.assign(requestLocals(res).logFields, {
      identity_id: state.identityId,
      via: state.via,
      purpose: state.purpose,
      step: step.kind,
    });

    switch (step.kind) {
      case 'create': {
        const templateId = templateFor(config, step.purpose);
        if (templateId === undefined) throw unavailable();
        context.personaEntries.spendCall(state.identityId);
        const opened = await openInquiry(
          { ...context, templateId, prefillFields: config.persona.prefillFields },
          {
            identityId: state.identityId,
            traits: state.identity.traits,
            previousInquiryId: step.previousInquiryId,
            purpose: step.purpose,
            recordSeen: state.record,
          },
          {
            persona: callOptions(res, PERSONA_BUDGET_MS),
            kratos: callOptions(res, PERSONA_BUDGET_MS + KRATOS_BUDGET_MS),
          },
        );
        if (opened.update.outcome === 'identity_not_found') throw new HttpError(404, 'unknown_identity');
        const entry = opened.inquiryId === null ? undefined : entryStep(opened.inquiryId, opened.status);
        if (entry === undefined) throw unavailable();
        return sendToPersona(res, state, entry);
      }
      case 'open':
      case 'resume':
        return sendToPersona(res, state, step);
      case 'verified':
        if (state.returnTo !== undefined) return res.redirect(303, state.returnTo);
        return inform(req, res, state, step.kind);
      case 'in_review':
      case 'declined':
      case 'failed':
        return inform(req, res, state, step.kind);
      case 'step_up_unavailable':
        requestLocals(res).log.warn({ identity_id: state.identityId }, STEP_UP_UNAVAILABLE);
        return inform(req, res, state, step.kind);
      case 'unavailable':
        throw unavailable();
    }
  };

  const crossOrigin = userCors(context.returnTo);
  router.options('/persona/start', crossOrigin);
  router.get('/persona/start', crossOrigin, userFacingHeaders, handle, userErrors(context));
}
