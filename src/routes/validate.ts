import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Config } from '../config.js';
import { isIdentityId } from '../identityId.js';
import {
  UNSUPPORTED_MEDIA_TYPE,
  closeUnlessBodyReceived,
  isJsonContentType,
  parseJson,
  readBody,
  type BodyLimits,
} from '../http/body.js';
import { toHttpError } from '../http/httpError.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals, trackRequest } from '../http/requestLog.js';
import { parseBody } from '../http/validation.js';
import { webhookSecretCheck } from '../http/webhookAuth.js';
import { MESSAGE_IDS, kratosErrorBody, messageText, type MessageContext } from '../kratos/messages.js';
import { errorFields, type Logger } from '../logger.js';
import type { MessageKey } from '../messages/catalogue.js';
import {
  decideLogin,
  decideLoginUnreadable,
  decideLoginWithoutRecord,
  type BlockReason,
  type LoginDecision,
  type LoginFacts,
  type LoginPolicy,
} from '../policy/loginPolicy.js';
import { mirrorOf, readMirror } from '../verification/record.js';

/** Kratos waits 30 s per attempt, but a login should not: the admin fallback gets two seconds. */
const FALLBACK_BUDGET_MS = 2_000;

export const LOGIN_GATE_PATH = '/persona/validate';
const BODY_LIMIT_BYTES = 16 * 1024;

const validateBody = z.object({
  identity_id: z.string().refine(isIdentityId, 'must be a non-nil UUID'),
  identity_created_at: z.string().nullable().optional(),
  persona: z.unknown().optional(),
  /** Where the login flow was going; the link in a block message returns there when allowed. */
  return_to: z.string().max(2048).nullable().optional(),
  /** The browser's Accept-Language; anything odd there only costs the message its language. */
  accept_language: z.string().nullish().catch(null),
});

type ValidateBody = z.output<typeof validateBody>;

/** Each block's message id, its text in the catalogue, and the LOGIN_MESSAGE_* that overrides it. */
const BLOCKS: Record<BlockReason, { id: number; text: MessageKey; override: keyof Config['login']['messages'] }> = {
  declined: { id: MESSAGE_IDS.declined, text: 'login.declined', override: 'declined' },
  verification_required: {
    id: MESSAGE_IDS.verificationRequired,
    text: 'login.verification_required',
    override: 'verificationRequired',
  },
  reverification_required: {
    id: MESSAGE_IDS.reverificationRequired,
    text: 'login.reverification_required',
    override: 'reverificationRequired',
  },
  verification_unavailable: {
    id: MESSAGE_IDS.verificationUnavailable,
    text: 'login.verification_unavailable',
    override: 'unavailable',
  },
};

/** Blocks the user can lift by verifying: their message carries the link to do so. */
const LINKED_REASONS: Record<BlockReason, boolean> = {
  declined: false,
  verification_required: true,
  reverification_required: true,
  verification_unavailable: false,
};

/** What the gate knows: the mirror's facts, or that the record cannot be read now or interpreted at all. */
type GateFacts =
  { kind: 'facts'; facts: LoginFacts } | { kind: 'unreadable'; reason: string } | { kind: 'unavailable' };

/**
 * The facts for the decision: from the public mirror the Jsonnet sent (no outbound call), else from
 * the admin record. A mirror written by version 1 that shows no decision may hide a decline that
 * version kept only in `history`: the admin record, replayed, tells (readRecord.ts).
 */
async function loginFacts(context: RouteContext, body: ValidateBody, res: ServerResponse): Promise<GateFacts> {
  const identityCreatedAt = body.identity_created_at ?? null;
  const { record: rules } = context.config;
  if (rules.publicMirror) {
    const mirror = readMirror(body.persona);
    const decided =
      mirror !== undefined && (rules.approvedStatuses.has(mirror.status) || rules.declinedStatuses.has(mirror.status));
    if (mirror !== undefined && (decided || !mirror.fromVersion1)) {
      return { kind: 'facts', facts: { status: mirror.status, verifiedAt: mirror.verified_at, identityCreatedAt } };
    }
  }
  try {
    const stored = await context.store.read(body.identity_id, callOptions(res, FALLBACK_BUDGET_MS));
    const reading = stored.found ? stored.reading : ({ kind: 'none' } as const);
    if (reading.kind === 'unreadable') return { kind: 'unreadable', reason: reading.reason };
    const mirror = reading.kind === 'record' ? mirrorOf(reading.record) : undefined;
    return {
      kind: 'facts',
      facts: { status: mirror?.status ?? null, verifiedAt: mirror?.verified_at ?? null, identityCreatedAt },
    };
  } catch (error) {
    requestLocals(res).log.warn(
      { identity_id: body.identity_id, ...errorFields(error) },
      'login gate could not read the verification record',
    );
    return { kind: 'unavailable' };
  }
}

/** Answers with a JSON body, or none. */
function send(res: ServerResponse, status: number, body?: object): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(json),
  });
  res.end(json);
}

/**
 * `POST /persona/validate`, the login gate (Kratos login.after and recovery.after, response.parse).
 * It serves every login, so it is a plain node:http handler in front of the Express app: the
 * benchmark showed Express's routing and body parsing costing the gate most of its time.
 */
export function loginGate(context: RouteContext, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, metrics } = context;
  const checkWebhookSecret = webhookSecretCheck(config.oryWebhookSecrets);
  const bodyLimits: BodyLimits = { limitBytes: BODY_LIMIT_BYTES, idleTimeoutMs: config.http.bodyIdleTimeoutMs };
  const policy: LoginPolicy = {
    ...config.login,
    approvedStatuses: config.record.approvedStatuses,
    declinedStatuses: config.record.declinedStatuses,
  };

  /** A signed link to /persona/start: a blocked user has no session to prove who they are. */
  const verifyLink = (body: ValidateBody, now: number) => {
    const returnTo = body.return_to && context.returnTo.isAllowed(body.return_to) ? body.return_to : undefined;
    return context.links.signedFor(body.identity_id, now, returnTo);
  };

  async function decide(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logFields } = requestLocals(res);
    checkWebhookSecret(req.headers);
    if (!isJsonContentType(req.headers['content-type'])) throw UNSUPPORTED_MEDIA_TYPE;
    const body = parseBody(validateBody, parseJson(await readBody(req, bodyLimits)));
    const known = await loginFacts(context, body, res);
    const now = context.now();
    let decision: LoginDecision;
    if (known.kind === 'facts') decision = decideLogin(known.facts, policy, now);
    else if (known.kind === 'unavailable')
      decision = decideLoginWithoutRecord({ identityCreatedAt: body.identity_created_at ?? null }, policy, now);
    else {
      requestLocals(res).log.error(
        { identity_id: body.identity_id, reason: known.reason },
        'verification record cannot be interpreted; fix or remove metadata_admin.persona',
      );
      decision = decideLoginUnreadable(policy);
    }
    const facts = known.kind === 'facts' ? known.facts : undefined;
    logFields.identity_id = body.identity_id;
    logFields.decision = decision.reason;
    metrics.countLoginDecision(decision.allow, decision.reason);
    if (decision.allow) {
      send(res, 204);
      return;
    }
    const block = BLOCKS[decision.reason];
    const messageContext: MessageContext = { reason: decision.reason, status: facts?.status ?? null };
    const linked = LINKED_REASONS[decision.reason] || (decision.reason === 'declined' && config.start.allowRetries);
    const verifyUrl = linked ? verifyLink(body, now) : undefined;
    if (verifyUrl !== undefined) messageContext['verify_url'] = verifyUrl;
    // A block the user cannot lift by verifying still leads somewhere.
    if (config.start.supportUrl !== undefined) messageContext['support_url'] = config.start.supportUrl;
    const text = messageText(context.messages, block.text, config.login.messages[block.override], body.accept_language);
    send(res, 403, kratosErrorBody(block.id, text, messageContext));
  }

  // The body that would say the browser's language is what could not be read: the default language.
  const unavailableText = messageText(
    context.messages,
    'login.verification_unavailable',
    config.login.messages.unavailable,
  );

  // Kratos shows our message only for 4xx bodies in its format; a 5xx or 429 becomes a bare error
  // page after retries (reference/kratos-actions.md), so every failure here is answered that way.
  function refuse(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const httpError = toHttpError(error);
    const { log, logFields } = requestLocals(res);
    logFields.error_code = httpError.code;
    metrics.countLoginDecision(false, 'invalid_request');
    if (httpError.status >= 500) log.error(errorFields(error), 'login gate failed unexpectedly');
    if (res.headersSent) return;
    closeUnlessBodyReceived(req, res);
    send(
      res,
      httpError.status >= 500 ? 403 : httpError.status,
      kratosErrorBody(MESSAGE_IDS.verificationUnavailable, unavailableText, {
        reason: 'verification_unavailable',
        error: httpError.code,
      }),
    );
  }

  return (req, res) => {
    trackRequest(req, res, logger, metrics, () => LOGIN_GATE_PATH);
    decide(req, res).catch((error: unknown) => refuse(req, res, error));
  };
}
