import { randomUUID } from 'node:crypto';
import type { IRouter, Request, RequestHandler, Response } from 'express';
import { formBody } from '../http/body.js';
import { InFlightLimit } from '../http/inFlightLimit.js';
import { formPageHeaders, respondWith, userFacingHeaders, type Page } from '../http/pages.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import type { RouteContext } from '../http/routeContext.js';
import { userErrors } from '../http/userErrors.js';
import { NIL_UUID } from '../identityId.js';
import { tooManyRequests } from '../http/httpError.js';
import { serviceNote } from '../persona/inquiry.js';
import type { EntryStep } from '../persona/personaEntry.js';
import { decoyReferenceId } from '../recovery/decoyReference.js';
import { issueRecoveryCode } from '../recovery/issueRecoveryCode.js';
import { isRecoverable } from '../recovery/recoverable.js';
import { RecoveryStarts } from '../recovery/recoveryStarts.js';
import { RECOVERY_PAGES, RECOVERY_PATH, RECOVERY_RETURN_PATH } from '../recovery/recoveryPages.js';
import { openRecoveryToken, sealRecoveryToken } from '../security/recoveryToken.js';
import { acceptedTemplateIds } from '../services.js';
import { readRecord } from '../verification/readRecord.js';
import { outcomeOf } from '../verification/record.js';

/**
 * The browser's binding to its recovery (recoveryToken.ts). `__Host-`: browsers keep it only when
 * set by a secure origin (https, or loopback) for this host alone with `Path=/`, so a sibling
 * subdomain can neither set nor shadow it (cookie tossing).
 */
const COOKIE = '__Host-persona_recovery';
/** Long enough to go through Persona's flow and wait for its decision; a manual review takes longer. */
const TOKEN_TTL_SECONDS = 3_600;
const PERSONA_BUDGET_MS = 5_000;
const KRATOS_BUDGET_MS = 3_000;
const MAX_IDENTIFIER_LENGTH = 320;
/**
 * Recovery forms being read at once. They carry no credential, so a stranger could send many
 * slowly; the place of the one that has stalled longest goes to the next (http/body.ts). A browser
 * sends the form with its headers.
 */
const RECOVERY_FORMS_AT_ONCE = 32;

const cookieOf = (req: Request): string | undefined =>
  (req.get('cookie') ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .find((pair) => pair.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);

/**
 * Recovery by verification (RECOVERY_BY_VERIFICATION=true), for a person who lost every factor:
 * `GET /persona/recover` asks for an identifier; its POST opens an inquiry of the recovery template
 * and sends the browser to Persona; `GET /persona/recover/return` is where Persona sends it back,
 * and where an approved inquiry ends in a Kratos recovery code for that browser only.
 *
 * Whether the identifier names a recoverable identity is never told: both cases do the same work
 * (one Kratos lookup, one Persona inquiry, a sealed token of one length) and answer alike (303 to
 * Persona's flow, which brings the browser back with a reference id either way). An identifier
 * that names none gets an inquiry of a decoy reference (decoyReference.ts), which can end only in
 * "not recovered", as a stranger's documents do for one that does.
 *
 * Every recovery spends a Persona inquiry, and Persona's creation quota (about 150 a minute) is the
 * whole environment's, registrations included: recoveries are limited per identifier and overall
 * (RECOVERY_INQUIRIES_PER_MINUTE), per replica, before anything is looked up (429 with
 * Retry-After); a return reads Persona within the inquiry's own limit of calls.
 */
export function recoverRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;
  const { recovery } = config;
  const templateId = recovery.templateId;
  const publicBaseUrl = config.start.publicBaseUrl;
  // The configuration refuses RECOVERY_BY_VERIFICATION without them.
  if (!recovery.enabled || templateId === undefined || publicBaseUrl === undefined) return;
  const returnUrl = `${publicBaseUrl}${RECOVERY_RETURN_PATH}`;
  const linkKey = config.start.linkSigningKeys[0] as Buffer;
  const starts = new RecoveryStarts(recovery.inquiriesPerMinute);
  const cookie = (value: string, maxAgeSeconds: number) =>
    `${COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
  const page = (req: Request, res: Response, status: number, content: Page, json: object) =>
    respondWith(req, res, status, context.messages.negotiate(req.get('accept-language')), content, json);

  /**
   * Into the recovery's inquiry. Entries are reused and Persona calls limited per inquiry, not per
   * identity: the recovery must not name one (and for an unknown identifier there is none).
   */
  const sendToPersona = async (res: Response, step: EntryStep) => {
    const entry = await context.personaEntries.enter(
      step.inquiryId,
      step,
      returnUrl,
      callOptions(res, PERSONA_BUDGET_MS),
    );
    res.redirect(303, entry.url);
  };

  const showForm: RequestHandler = (req, res) => {
    page(req, res, 200, RECOVERY_PAGES.form, { identifier: 'required' });
  };

  const requestRecovery: RequestHandler = async (req, res) => {
    const { logFields } = requestLocals(res);
    // Only this service's own form may start a recovery: a cross-site form would start one in a
    // victim's browser.
    if (req.get('sec-fetch-site') === 'cross-site') {
      return page(req, res, 403, RECOVERY_PAGES.crossSite, { error: { code: 'cross_site' } });
    }
    const identifier = ((req.body as URLSearchParams).get('identifier') ?? '').trim();
    if (identifier === '' || identifier.length > MAX_IDENTIFIER_LENGTH) {
      return page(req, res, 400, RECOVERY_PAGES.invalidIdentifier, { error: { code: 'invalid_identifier' } });
    }
    const permit = starts.take(identifier, context.now());
    if (!permit.allowed) {
      logFields.outcome = 'rate_limited';
      context.metrics.countRecovery('rate_limited');
      throw tooManyRequests(permit.retryAfterMs, 'too many recoveries started; start again later');
    }
    const identity = await context.kratos.findIdentityByIdentifier(identifier, callOptions(res, KRATOS_BUDGET_MS));
    const record = identity === null ? null : readRecord(identity.metadataAdmin, context.rules.statuses);
    const recoverableId =
      identity !== null && isRecoverable(identity.state, record?.kind === 'record' ? record.record : null)
        ? identity.id
        : null;
    const inquiry = await context.persona.createInquiry(
      {
        templateId,
        // Same Persona account as the identity's verification, so the template compares against it.
        referenceId: recoverableId ?? decoyReferenceId(identifier, linkKey),
        fields: {},
        note: serviceNote('recovery'),
        idempotencyKey: `ory-persona-idv-recovery-${randomUUID()}`,
      },
      callOptions(res, PERSONA_BUDGET_MS),
    );
    const now = Math.floor(context.now() / 1000);
    const token = sealRecoveryToken(
      { identityId: recoverableId ?? NIL_UUID, inquiryId: inquiry.id, expiresAtSeconds: now + TOKEN_TTL_SECONDS },
      linkKey,
    );
    Object.assign(logFields, { outcome: 'requested', recoverable: recoverableId !== null });
    context.metrics.countRecovery('requested');
    res.set('Set-Cookie', cookie(token, TOKEN_TTL_SECONDS));
    await sendToPersona(res, { kind: 'open', inquiryId: inquiry.id });
  };

  const finishRecovery: RequestHandler = async (req, res) => {
    const { log, logFields } = requestLocals(res);
    const opened = openRecoveryToken(
      cookieOf(req) ?? '',
      config.start.linkSigningKeys,
      Math.floor(context.now() / 1000),
    );
    if (!opened.valid) {
      logFields.outcome = `token_${opened.reason}`;
      return page(req, res, 400, RECOVERY_PAGES.expired, { status: 'expired' });
    }
    const { token } = opened;
    // One cookie may be sent back any number of times: each read of Persona is one of the
    // inquiry's calls (429 once they are spent), as entering its flow is.
    context.personaEntries.spendCall(token.inquiryId);
    // Persona's redirect proves nothing: the inquiry is read from Persona, in both cases alike.
    const inquiry = await context.persona.getInquiry(token.inquiryId, callOptions(res, PERSONA_BUDGET_MS));
    const status = inquiry.status ?? '';
    if (status === 'created') return sendToPersona(res, { kind: 'open', inquiryId: inquiry.id });
    if (status === 'pending' || status === 'expired') {
      return sendToPersona(res, { kind: 'resume', inquiryId: inquiry.id, expired: status === 'expired' });
    }
    const outcome = outcomeOf(status, context.rules.statuses);
    if (outcome === null && status !== 'failed') {
      logFields.outcome = 'checking';
      return page(req, res, 200, RECOVERY_PAGES.checking, { status: 'checking' });
    }
    const notRecovered = (reason: string) => {
      Object.assign(logFields, { outcome: 'not_recovered', reason });
      context.metrics.countRecovery('refused');
      page(req, res, 200, RECOVERY_PAGES.notRecovered, { status: 'not_recovered' });
    };
    if (outcome !== 'approved') return notRecovered(status);
    if (token.identityId === NIL_UUID) return notRecovered('no_recoverable_identity');

    const result = await issueRecoveryCode(
      {
        ...context,
        recoveryTemplateId: templateId,
        templateIds: acceptedTemplateIds(config),
        removeSecondFactors: recovery.removeSecondFactors,
        now: context.now,
      },
      token.identityId,
      inquiry,
      callOptions(res, KRATOS_BUDGET_MS * 3),
    );
    logFields.identity_id = token.identityId;
    if (result.kind === 'refused') {
      log.warn(
        { identity_id: token.identityId, inquiry_id: inquiry.id, reason: result.reason },
        'recovery by verification refused',
      );
      if (result.reason === 'already_issued') {
        Object.assign(logFields, { outcome: 'already_issued' });
        return page(req, res, 200, RECOVERY_PAGES.alreadyIssued, { status: 'already_issued' });
      }
      return notRecovered(result.reason);
    }
    log.info(
      {
        identity_id: token.identityId,
        inquiry_id: inquiry.id,
        second_factors_removed: result.secondFactorsRemoved,
      },
      'recovery by verification: recovery code issued, sessions revoked',
    );
    logFields.outcome = 'code_issued';
    context.metrics.countRecovery('code_issued');
    res.set('Set-Cookie', cookie('', 0));
    page(req, res, 200, RECOVERY_PAGES.code(result.code.recoveryCode, result.code.recoveryLink), {
      status: 'code_issued',
      recovery_code: result.code.recoveryCode,
      recovery_link: result.code.recoveryLink,
      expires_at: result.code.expiresAt,
    });
  };

  const errors = userErrors(context);
  const formHeaders = formPageHeaders([new URL(config.persona.hostedFlowUrl).origin]);
  router.get(RECOVERY_PATH, userFacingHeaders, formHeaders, showForm);
  router.post(
    RECOVERY_PATH,
    userFacingHeaders,
    formHeaders,
    formBody({
      limitBytes: 4 * 1024,
      idleTimeoutMs: config.http.bodyIdleTimeoutMs,
      readers: new InFlightLimit(RECOVERY_FORMS_AT_ONCE),
    }),
    requestRecovery,
    errors,
  );
  router.get(RECOVERY_RETURN_PATH, userFacingHeaders, finishRecovery, errors);
}
