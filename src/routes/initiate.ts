import { type IRouter, type Response } from 'express';
import { z } from 'zod';
import { NIL_UUID, uuidField } from '../identityId.js';
import { jsonBody, requireJson } from '../http/body.js';
import { isDependencyFailure } from '../http/dependencyFailure.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { parseBody } from '../http/validation.js';
import { requireWebhookSecret } from '../http/webhookAuth.js';
import { MESSAGE_IDS, kratosErrorBody, messageText } from '../kratos/messages.js';
import { errorFields } from '../logger.js';
import { OutboundError } from '../outbound/outboundError.js';
import { openInquiry } from '../verification/openInquiry.js';
import type { Notice } from '../notifications/notice.js';
import { markNotStarted } from '../verification/transition.js';

/**
 * A post-persist hook that fails strands the user on an error page although the account exists
 * (reference/kratos-actions.md), so initiate answers within about two seconds whatever happens:
 * Persona gets most of that, the two Kratos calls the rest.
 */
const PERSONA_BUDGET_MS = 1_200;
const KRATOS_BUDGET_MS = 700;

const initiateBody = z.object({
  identity_id: uuidField('must be a UUID'),
  traits: z.record(z.string(), z.unknown()).nullable().optional(),
  /** The browser's Accept-Language, for the language of the registration email. */
  accept_language: z.string().nullish().catch(null),
});

const MISCONFIGURED_HOOK =
  'registration hook runs before the identity is saved (identity id is the nil UUID): ' +
  'remove response.parse and can_interrupt from the /persona/initiate hook in selfservice.flows.registration.after';

export function initiateRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;
  // The registration's Accept-Language is not in the body: the message is in the default language.
  const unavailableText = messageText(
    context.messages,
    'login.verification_unavailable',
    config.login.messages.unavailable,
  );

  router.post(
    '/persona/initiate',
    requireWebhookSecret(config.oryWebhookSecrets),
    requireJson,
    jsonBody({ limitBytes: 100 * 1024, idleTimeoutMs: config.http.bodyIdleTimeoutMs }),
    async (req, res) => {
      const { log, logFields } = requestLocals(res);
      const body = parseBody(initiateBody, req.body);
      const identityId = body.identity_id;

      if (identityId === NIL_UUID) {
        log.error({ hook: 'initiate' }, MISCONFIGURED_HOOK);
        logFields.outcome = 'hook_misconfigured';
        res.status(400).json(
          kratosErrorBody(MESSAGE_IDS.hookMisconfigured, unavailableText, {
            reason: 'hook_misconfigured',
          }),
        );
        return;
      }

      const templateId = config.persona.templateIds[0] as string;
      // With SMTP_URL, the person gets the link to start verifying by email, with the first record.
      const welcome: Notice[] =
        config.notifications.email === undefined
          ? []
          : [
              {
                kind: 'email',
                email: { template: 'registration', language: body.accept_language ?? null, returnTo: null },
              },
            ];
      let status: string | undefined;
      let inquiryId: string | null = null;
      try {
        const opened = await openInquiry(
          { ...context, templateId, prefillFields: config.persona.prefillFields },
          { identityId, traits: body.traits ?? {}, previousInquiryId: null, purpose: 'onboarding', welcome },
          {
            persona: callOptions(res, PERSONA_BUDGET_MS),
            kratos: callOptions(res, PERSONA_BUDGET_MS + KRATOS_BUDGET_MS),
          },
        );
        inquiryId = opened.inquiryId;
        status = opened.update.record?.status ?? opened.status ?? undefined;
        logFields.outcome = opened.update.outcome;
      } catch (error) {
        if (!isDependencyFailure(error)) throw error;
        log.warn({ identity_id: identityId, ...errorFields(error) }, 'verification not started at registration');
        if (error instanceof OutboundError && error.target === 'persona')
          status = await recordNotStarted(context, { identityId, templateId, welcome }, res);
        logFields.outcome = 'not_started';
      }
      logFields.identity_id = identityId;
      res.status(200).json({ status: status ?? 'unknown', inquiry_id: inquiryId });
    },
  );
}

/** Persona failed: the record says `not_started`, and `/persona/start` creates the inquiry later. */
async function recordNotStarted(
  context: RouteContext,
  { identityId, templateId, welcome }: { identityId: string; templateId: string; welcome: Notice[] },
  res: Response,
): Promise<string | undefined> {
  try {
    const update = await context.store.update(
      identityId,
      ({ record }) => ({ ...markNotStarted(record, templateId), ...(record === null && { notices: welcome }) }),
      callOptions(res, KRATOS_BUDGET_MS),
    );
    return update.record?.status;
  } catch (error) {
    requestLocals(res).log.warn({ identity_id: identityId, ...errorFields(error) }, 'could not record not_started');
    return undefined;
  }
}
