import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isIdentityId, uuidField } from '../identityId.js';
import { gateMirror } from '../http/gateMirror.js';
import { HttpError } from '../http/httpError.js';
import { sendJson, serveHookGate } from '../http/kratosHookGate.js';
import type { RouteContext } from '../http/routeContext.js';
import { requestLocals } from '../http/requestLog.js';
import type { StartTarget } from '../http/startLinks.js';
import { parseBody } from '../http/validation.js';
import { MESSAGE_IDS, kratosErrorBody, messageText, type MessageContext } from '../kratos/messages.js';
import type { Logger } from '../logger.js';
import type { MessageKey } from '../messages/catalogue.js';
import {
  SETTINGS_METHODS,
  decideSettings,
  type SettingsBlockReason,
  type SettingsMethod,
  type StepUpPolicy,
} from '../policy/stepUpPolicy.js';
import { STEP_UP_UNAVAILABLE } from '../stepUp/planStepUp.js';

export const SETTINGS_GATE_PATH = '/persona/settings';
const BODY_LIMIT_BYTES = 32 * 1024;

const settingsBody = z.object({
  identity_id: uuidField('must be a non-nil UUID').refine(isIdentityId, 'must be a non-nil UUID'),
  persona: z.unknown().optional(),
  /** Profile changes: which trait paths differ (values are never sent). */
  changed_traits: z.array(z.string().max(512)).max(1_000).nullable().optional(),
  /** Profile changes: whether a recovery or verifiable address differs (values are never sent). */
  changed_addresses: z.boolean().nullable().optional(),
  /**
   * When the session signed in, for the log only: a recent sign-in proves the password, not the
   * person, so the decision never rests on it (Kratos's privileged session does).
   */
  authenticated_at: z
    .string()
    .max(64)
    .refine((time) => !Number.isNaN(Date.parse(time)))
    .nullish()
    .catch(null),
  /** Whether the browser holds a Kratos session cookie the link to /persona/start can rely on. */
  session_cookie: z.boolean().optional(),
  /** The settings page (the request's Referer), to come back to after verifying. */
  settings_url: z.string().max(2048).nullable().optional(),
  return_to: z.string().max(2048).nullable().optional(),
  /** The browser's Accept-Language; anything odd there only costs the message its language. */
  accept_language: z.string().nullish().catch(null),
});

type SettingsBody = z.output<typeof settingsBody>;

/** Kratos's settings flows say nothing of their method, so each method's hook names it in its URL. */
function methodOf(req: IncomingMessage): SettingsMethod {
  const method = new URL(req.url ?? '', 'http://hook').searchParams.get('method');
  if (!SETTINGS_METHODS.includes(method as SettingsMethod)) {
    throw new HttpError(
      400,
      'invalid_request',
      `the settings hook URL must name its method: ?method=${SETTINGS_METHODS.join('|')}`,
    );
  }
  return method as SettingsMethod;
}

/** What the user can do about a block: verify (with the link), or nothing. */
const TARGETS: Record<SettingsBlockReason, StartTarget | undefined> = {
  declined: undefined,
  verified_trait_locked: undefined,
  verification_required: { purpose: 'verification' },
  reverification_required: { purpose: 'verification' },
  step_up_required: { purpose: 'step_up' },
  step_up_unavailable: undefined,
};

/**
 * `POST /persona/settings`, the step-up gate (Kratos settings.after per method, response.parse,
 * so it runs before the change is saved). It decides from the public mirror the Jsonnet sends, with
 * no outbound call in the common case, never writes to Kratos, and never answers 5xx or 429.
 */
export function settingsGate(
  context: RouteContext,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, metrics } = context;
  const policy: StepUpPolicy = {
    maxAgeMs: config.stepUp.maxAgeMs,
    traits: config.stepUp.traits,
    approvedStatuses: config.record.approvedStatuses,
    declinedStatuses: config.record.declinedStatuses,
    stepUpOffered: config.stepUp.templateId !== undefined,
    comparedTraits: config.record.attributeMatch?.attributes.map(({ traitPath }) => traitPath.join('.')) ?? [],
  };
  /** Each block's message id, its text in the catalogue, and the operator's text that overrides it. */
  const blocks: Record<SettingsBlockReason, { id: number; text: MessageKey; override: string | undefined }> = {
    declined: { id: MESSAGE_IDS.declined, text: 'login.declined', override: config.login.messages.declined },
    verified_trait_locked: {
      id: MESSAGE_IDS.verifiedTraitLocked,
      text: 'settings.verified_trait_locked',
      override: undefined,
    },
    verification_required: {
      id: MESSAGE_IDS.verificationRequired,
      text: 'login.verification_required',
      override: config.login.messages.verificationRequired,
    },
    reverification_required: {
      id: MESSAGE_IDS.reverificationRequired,
      text: 'login.reverification_required',
      override: config.login.messages.reverificationRequired,
    },
    step_up_required: {
      id: MESSAGE_IDS.stepUpRequired,
      text: 'settings.step_up_required',
      override: config.stepUp.message,
    },
    // STEP_UP_MESSAGE asks to verify again, which this person cannot: the catalogue's text says so.
    step_up_unavailable: { id: MESSAGE_IDS.stepUpRequired, text: 'settings.step_up_unavailable', override: undefined },
  };
  const text = (key: MessageKey, override: string | undefined, body: SettingsBody) =>
    messageText(context.messages, key, override, body.accept_language);

  /**
   * Back to the settings page when allowed. A browser's flow carries the Kratos session cookie,
   * which `/persona/start` reads itself; a native app's session token never reaches this service,
   * so its link is signed for the identity, good for that purpose only.
   */
  const verifyLink = (body: SettingsBody, target: StartTarget, now: number) => {
    if (!context.links.available) return undefined;
    const returnTo = [body.settings_url, body.return_to].find(
      (candidate): candidate is string => typeof candidate === 'string' && context.returnTo.isAllowed(candidate),
    );
    return body.session_cookie === true
      ? context.links.forSession(returnTo, target)
      : context.links.signedFor(body.identity_id, now, returnTo, target);
  };

  async function decide(json: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { log, logFields } = requestLocals(res);
    const method = methodOf(req);
    const body = parseBody(settingsBody, json);
    Object.assign(logFields, {
      identity_id: body.identity_id,
      settings_method: method,
      session_authenticated_at: body.authenticated_at ?? null,
    });
    const known = await gateMirror(context, body.identity_id, body.persona, res);
    if (known.kind !== 'mirror') {
      // Fail safe: a change that needs proof never goes ahead without it.
      if (known.kind === 'unreadable') {
        log.error(
          { identity_id: body.identity_id, reason: known.reason },
          'verification record cannot be interpreted; fix or remove metadata_admin.persona',
        );
      }
      logFields.decision = 'verification_unavailable';
      metrics.countSettingsDecision(false, 'verification_unavailable', method);
      sendJson(
        res,
        403,
        kratosErrorBody(
          MESSAGE_IDS.verificationUnavailable,
          text('login.verification_unavailable', config.login.messages.unavailable, body),
          { reason: 'verification_unavailable' },
        ),
      );
      return;
    }
    const { mirror } = known;
    const now = context.now();
    const decision = decideSettings(
      {
        method,
        status: mirror?.status ?? null,
        verifiedAt: mirror?.verified_at ?? null,
        stepUpVerifiedAt: mirror?.step_up_verified_at ?? null,
        changedTraits: body.changed_traits ?? null,
        changedAddresses: body.changed_addresses ?? null,
        reverificationRequired: mirror?.reverification_required === true,
      },
      policy,
      now,
    );
    logFields.decision = decision.reason;
    metrics.countSettingsDecision(decision.allow, decision.reason, method);
    if (decision.allow) {
      sendJson(res, 204);
      return;
    }
    if (decision.reason === 'step_up_unavailable') log.warn({ identity_id: body.identity_id }, STEP_UP_UNAVAILABLE);
    const block = blocks[decision.reason];
    const messageContext: MessageContext = { reason: decision.reason, status: mirror?.status ?? null };
    const target = TARGETS[decision.reason];
    const verifyUrl = target === undefined ? undefined : verifyLink(body, target, now);
    if (verifyUrl !== undefined) messageContext['verify_url'] = verifyUrl;
    // A block the user cannot lift by verifying still leads somewhere.
    if (config.start.supportUrl !== undefined) messageContext['support_url'] = config.start.supportUrl;
    sendJson(res, 403, kratosErrorBody(block.id, text(block.text, block.override, body), messageContext));
  }

  return serveHookGate(
    {
      path: SETTINGS_GATE_PATH,
      bodyLimitBytes: BODY_LIMIT_BYTES,
      decide,
      countRefusal: () => metrics.countSettingsDecision(false, 'invalid_request', 'unknown'),
    },
    { config, metrics, logger, messages: context.messages },
  );
}
