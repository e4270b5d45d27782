import { Router, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import { isIdentityId } from '../identityId.js';
import { jsonBody, requireJson } from '../http/bodyParsers.js';
import { toHttpError } from '../http/httpError.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { parseBody } from '../http/validation.js';
import { requireWebhookSecret } from '../http/webhookAuth.js';
import { MESSAGE_IDS, kratosErrorBody, type MessageContext } from '../kratos/messages.js';
import { errorFields } from '../logger.js';
import {
  decideLogin,
  decideLoginWithoutRecord,
  type BlockReason,
  type LoginFacts,
  type LoginPolicy,
} from '../policy/loginPolicy.js';
import { mirrorOf, publicMirror } from '../verification/record.js';

/** Kratos waits 30 s per attempt, but a login should not: the admin fallback gets two seconds. */
export const FALLBACK_BUDGET_MS = 2_000;

const validateBody = z.object({
  identity_id: z.string().refine(isIdentityId, 'must be a non-nil UUID'),
  identity_created_at: z.string().nullable().optional(),
  persona: z.unknown().optional(),
  /** Where the login flow was going; the link in a block message returns there when allowed. */
  return_to: z.string().max(2048).nullable().optional(),
});

type ValidateBody = z.output<typeof validateBody>;

const BLOCKS: Record<BlockReason, { id: number; text: (messages: Config['login']['messages']) => string }> = {
  declined: { id: MESSAGE_IDS.declined, text: (messages) => messages.declined },
  verification_required: { id: MESSAGE_IDS.verificationRequired, text: (messages) => messages.verificationRequired },
  reverification_required: {
    id: MESSAGE_IDS.reverificationRequired,
    text: (messages) => messages.reverificationRequired,
  },
  verification_unavailable: { id: MESSAGE_IDS.verificationUnavailable, text: (messages) => messages.unavailable },
};

/** Blocks the user can lift by verifying: their message carries the link to do so. */
const LINKED_REASONS: Record<BlockReason, boolean> = {
  declined: false,
  verification_required: true,
  reverification_required: true,
  verification_unavailable: false,
};

/**
 * The facts for the decision: from the public mirror the Jsonnet sent (no outbound call), else from
 * the admin record. Undefined when the record cannot be read now.
 */
async function loginFacts(context: RouteContext, body: ValidateBody, res: Response): Promise<LoginFacts | undefined> {
  const identityCreatedAt = body.identity_created_at ?? null;
  if (context.config.record.publicMirror) {
    const mirror = publicMirror.safeParse(body.persona);
    if (mirror.success)
      return { status: mirror.data.status, verifiedAt: mirror.data.verified_at ?? null, identityCreatedAt };
  }
  try {
    const stored = await context.store.read(body.identity_id, callOptions(res, FALLBACK_BUDGET_MS));
    const record = stored.found ? stored.record : null;
    return {
      status: record?.status ?? null,
      verifiedAt:
        record === null ? null : (mirrorOf(record, context.config.record.approvedStatuses).verified_at ?? null),
      identityCreatedAt,
    };
  } catch (error) {
    requestLocals(res).log.warn(
      { identity_id: body.identity_id, ...errorFields(error) },
      'login gate could not read the verification record',
    );
    return undefined;
  }
}

export function validateRoute(context: RouteContext): Router {
  const { config } = context;
  const policy: LoginPolicy = {
    ...config.login,
    approvedStatuses: config.record.approvedStatuses,
    declinedStatuses: config.record.declinedStatuses,
  };
  const router = Router();

  /** A signed link to /persona/start: a blocked user has no session to prove who they are. */
  const verifyLink = (body: ValidateBody, now: number) => {
    const returnTo = body.return_to && context.returnTo.isAllowed(body.return_to) ? body.return_to : undefined;
    return context.links.signedFor(body.identity_id, now, returnTo);
  };

  // Kratos shows our message only for 4xx bodies in its format; a 5xx or 429 becomes a bare error
  // page after retries (reference/kratos-actions.md), so every failure here is answered that way.
  const kratosFormatErrors: ErrorRequestHandler = (error, _req, res, _next) => {
    const httpError = toHttpError(error);
    const { log, logFields } = requestLocals(res);
    logFields.error_code = httpError.code;
    context.metrics.countLoginDecision(false, 'invalid_request');
    if (httpError.status >= 500) log.error(errorFields(error), 'login gate failed unexpectedly');
    const status = httpError.status >= 500 ? 403 : httpError.status;
    res.status(status).json(
      kratosErrorBody(MESSAGE_IDS.verificationUnavailable, config.login.messages.unavailable, {
        reason: 'verification_unavailable',
        error: httpError.code,
      }),
    );
  };

  const gate: RequestHandler = async (req, res) => {
    const { logFields } = requestLocals(res);
    const body = parseBody(validateBody, req.body);
    const facts = await loginFacts(context, body, res);
    const now = context.now();
    const decision =
      facts === undefined
        ? decideLoginWithoutRecord({ identityCreatedAt: body.identity_created_at ?? null }, policy, now)
        : decideLogin(facts, policy, now);
    Object.assign(logFields, { identity_id: body.identity_id, decision: decision.reason });
    context.metrics.countLoginDecision(decision.allow, decision.reason);
    if (decision.allow) {
      res.status(204).end();
      return;
    }
    const block = BLOCKS[decision.reason];
    const messageContext: MessageContext = { reason: decision.reason, status: facts?.status ?? null };
    const linked = LINKED_REASONS[decision.reason] || (decision.reason === 'declined' && config.start.allowRetries);
    const verifyUrl = linked ? verifyLink(body, now) : undefined;
    if (verifyUrl !== undefined) messageContext['verify_url'] = verifyUrl;
    res.status(403).json(kratosErrorBody(block.id, block.text(config.login.messages), messageContext));
  };

  router.post(
    '/persona/validate',
    requireWebhookSecret(config.oryWebhookSecrets),
    requireJson,
    jsonBody('16kb'),
    gate,
    kratosFormatErrors,
  );
  return router;
}
