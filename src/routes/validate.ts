import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Config } from '../config.js';
import { isIdentityId, uuidField } from '../identityId.js';
import { gateMirror } from '../http/gateMirror.js';
import { sendJson, serveHookGate } from '../http/kratosHookGate.js';
import type { RouteContext } from '../http/routeContext.js';
import { requestLocals } from '../http/requestLog.js';
import { parseBody } from '../http/validation.js';
import { MESSAGE_IDS, kratosErrorBody, messageText, type MessageContext } from '../kratos/messages.js';
import type { Logger } from '../logger.js';
import type { MessageKey } from '../messages/catalogue.js';
import {
  decideLogin,
  decideLoginUnreadable,
  decideLoginWithoutRecord,
  type BlockReason,
  type LoginDecision,
  loginPolicyOf,
  type LoginFacts,
} from '../policy/loginPolicy.js';

export const LOGIN_GATE_PATH = '/persona/validate';
const BODY_LIMIT_BYTES = 16 * 1024;

const validateBody = z.object({
  identity_id: uuidField('must be a non-nil UUID').refine(isIdentityId, 'must be a non-nil UUID'),
  identity_created_at: z.string().nullable().optional(),
  persona: z.unknown().optional(),
  /** Where the login flow was going; the link in a block message returns there when allowed. */
  return_to: z.string().max(2048).nullable().optional(),
  /** The browser's Accept-Language; anything odd there only costs the message its language. */
  accept_language: z.string().nullish().catch(null),
  /**
   * Whether the identity has an email address it proved it owns (never the address): only then is
   * a signed link emailed, and may a block message say so.
   */
  has_verified_email_address: z.boolean().nullish().catch(null),
});

type ValidateBody = z.output<typeof validateBody>;

/** Each block's message id, its text in the catalogue, and the LOGIN_MESSAGE_* that overrides it. */
export const BLOCKS: Record<
  BlockReason,
  { id: number; text: MessageKey; override: keyof Config['login']['messages'] }
> = {
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

/**
 * `POST /persona/validate`, the login gate (Kratos login.after and recovery.after, response.parse).
 * It decides from the public mirror the Jsonnet sends, with no outbound call in the common case.
 */
export function loginGate(context: RouteContext, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, metrics } = context;
  const policy = loginPolicyOf(config);

  const allowedReturnTo = (body: ValidateBody) =>
    body.return_to && context.returnTo.isAllowed(body.return_to) ? body.return_to : undefined;
  /** A signed link to /persona/start: a blocked user has no session to prove who they are. */
  const verifyLink = (body: ValidateBody, now: number) =>
    context.links.signedFor(body.identity_id, now, allowedReturnTo(body));

  /**
   * The same link by email (SMTP_URL), so a person blocked on a page that does not show
   * `verify_url` has a way forward; only to a verified address, as whoever opens the link verifies
   * this account (the email channel checks again when it sends). Only asked for here: the email
   * leaves the request path (notifications/email/emailRequests.ts). True when the message may say
   * it was sent.
   */
  const emailLink = (body: ValidateBody, reason: BlockReason): boolean => {
    if (reason !== 'verification_required' && reason !== 'reverification_required') return false;
    if (body.has_verified_email_address !== true) return false;
    return context.notifications.requestEmail(body.identity_id, {
      template: reason,
      language: body.accept_language ?? null,
      returnTo: allowedReturnTo(body) ?? null,
    });
  };

  async function decide(json: unknown, _req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { log, logFields } = requestLocals(res);
    const body = parseBody(validateBody, json);
    const identityCreatedAt = body.identity_created_at ?? null;
    const known = await gateMirror(context, body.identity_id, body.persona, res);
    const now = context.now();
    let decision: LoginDecision;
    let facts: LoginFacts | undefined;
    if (known.kind === 'mirror') {
      const { mirror } = known;
      facts = {
        status: mirror?.status ?? null,
        verifiedAt: mirror?.verified_at ?? null,
        identityCreatedAt,
        reverificationRequired: mirror?.reverification_required === true,
      };
      decision = decideLogin(facts, policy, now);
    } else if (known.kind === 'unavailable') decision = decideLoginWithoutRecord({ identityCreatedAt }, policy, now);
    else {
      log.error(
        { identity_id: body.identity_id, reason: known.reason },
        'verification record cannot be interpreted; fix or remove metadata_admin.persona',
      );
      decision = decideLoginUnreadable(policy);
    }
    logFields.identity_id = body.identity_id;
    logFields.decision = decision.reason;
    metrics.countLoginDecision(decision.allow, decision.reason);
    if (decision.allow) {
      sendJson(res, 204);
      return;
    }
    const block = BLOCKS[decision.reason];
    const messageContext: MessageContext = { reason: decision.reason, status: facts?.status ?? null };
    const linked = LINKED_REASONS[decision.reason] || (decision.reason === 'declined' && config.start.allowRetries);
    const verifyUrl = linked ? verifyLink(body, now) : undefined;
    if (verifyUrl !== undefined) messageContext['verify_url'] = verifyUrl;
    // A block the user cannot lift by verifying still leads somewhere.
    if (config.start.supportUrl !== undefined) messageContext['support_url'] = config.start.supportUrl;
    let text = messageText(context.messages, block.text, config.login.messages[block.override], body.accept_language);
    if (verifyUrl !== undefined && emailLink(body, decision.reason)) {
      messageContext['email_sent'] = true;
      text = `${text} ${context.messages.negotiate(body.accept_language ?? undefined).text('login.email_sent')}`;
    }
    sendJson(res, 403, kratosErrorBody(block.id, text, messageContext));
  }

  return serveHookGate(
    {
      path: LOGIN_GATE_PATH,
      bodyLimitBytes: BODY_LIMIT_BYTES,
      decide,
      countRefusal: () => metrics.countLoginDecision(false, 'invalid_request'),
    },
    { config, metrics, logger, messages: context.messages },
  );
}
