import { type IRouter, type Request, type RequestHandler, type Response } from 'express';
import { respondWith, userFacingHeaders, type PageContent } from '../http/pages.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { userCors } from '../http/userCors.js';
import { userErrors } from '../http/userErrors.js';
import { readUserState, type UserState } from '../http/userState.js';
import { HttpError } from '../http/httpError.js';
import { entryStatus, type EntryStep } from '../persona/personaEntry.js';
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

const continueLink = (returnTo: string | undefined) => (returnTo ? { href: returnTo, label: 'Continue' } : undefined);

export function startRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;
  /** The record cannot be interpreted, or the inquiry cannot be entered: nothing is started. */
  const unavailable = () => new HttpError(503, 'verification_unavailable', config.login.messages.unavailable);

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

  function inform(req: Request, res: Response, state: UserState, page: PageContent) {
    respondWith(req, res, 200, page, { ...publicStatus(state.record), verification_required: false, verify_url: null });
  }

  const handle: RequestHandler = async (req, res) => {
    const state = await readUserState(req, res, context);
    const { step } = state;
    Object.assign(requestLocals(res).logFields, { identity_id: state.identityId, via: state.via, step: step.kind });

    switch (step.kind) {
      case 'create': {
        context.personaEntries.spendCall(state.identityId);
        const opened = await openInquiry(
          {
            ...context,
            templateId: config.persona.templateIds[0] as string,
            prefillFields: config.persona.prefillFields,
          },
          {
            identityId: state.identityId,
            traits: state.identity.traits,
            previousInquiryId: step.previousInquiryId,
            purpose: step.purpose,
          },
          {
            persona: callOptions(res, PERSONA_BUDGET_MS),
            kratos: callOptions(res, PERSONA_BUDGET_MS + KRATOS_BUDGET_MS),
          },
        );
        if (opened.update.outcome === 'identity_not_found') {
          throw new HttpError(404, 'unknown_identity', 'This account no longer exists.');
        }
        const entry = opened.inquiryId === null ? undefined : entryStep(opened.inquiryId, opened.status);
        if (entry === undefined) throw unavailable();
        return sendToPersona(res, state, entry);
      }
      case 'open':
      case 'resume':
        return sendToPersona(res, state, step);
      case 'verified':
        if (state.returnTo !== undefined) return res.redirect(303, state.returnTo);
        return inform(req, res, state, { title: 'Identity verified', message: 'Your identity is verified.' });
      case 'in_review':
        return inform(req, res, state, {
          title: 'Verification in review',
          message:
            'Thank you. Your verification has been submitted and is being reviewed; you will be able to continue once it is decided.',
          link: continueLink(state.returnTo),
        });
      case 'declined':
        return inform(req, res, state, { title: 'Verification declined', message: config.login.messages.declined });
      case 'failed':
        return inform(req, res, state, {
          title: 'Verification failed',
          message: 'Your identity could not be verified. Please contact support.',
        });
      case 'unavailable':
        throw unavailable();
    }
  };

  const crossOrigin = userCors(context.returnTo);
  router.options('/persona/start', crossOrigin);
  router.get('/persona/start', crossOrigin, userFacingHeaders, handle, userErrors(config.login.messages.unavailable));
}
