import type { IRouter, Request, RequestHandler, Response } from 'express';
import { HttpError } from '../../http/httpError.js';
import { isJsonContentType, parseJson, readBody, type BodyLimits } from '../../http/body.js';
import { InFlightLimit } from '../../http/inFlightLimit.js';
import { formPageHeaders, respondWith, userFacingHeaders, type Page } from '../../http/pages.js';
import { requestLocals } from '../../http/requestLog.js';
import type { RouteContext } from '../../http/routeContext.js';
import { CODE_ENTRY_PATH } from '../../http/startLinks.js';
import { userErrors } from '../../http/userErrors.js';
import { wayForward } from '../../http/wayForward.js';
import type { HelpDesk } from '../adminContext.js';
import { readTypedCode } from './shortCode.js';

const BODY_LIMIT_BYTES = 1024;
/**
 * Codes being read at once. Like the recovery form they carry no credential, so a stranger could
 * send many slowly; the place of the one that has stalled longest goes to the next (http/body.ts).
 */
const CODE_ENTRIES_AT_ONCE = 32;

const FORM: Page['form'] = {
  action: CODE_ENTRY_PATH,
  name: 'code',
  label: 'page.code_entry.label',
  autocomplete: 'one-time-code',
  submit: 'page.code_entry.submit',
};
/** The answer is a page, never a redirect: the form posts to this service only. */
const pageHeaders = [userFacingHeaders, formPageHeaders([])];
const ENTRY: Page = { title: 'page.code_entry.title', message: 'page.code_entry.message', form: FORM };
const INVALID: Page = { title: 'error.invalid_code.title', message: 'error.invalid_code.message', form: FORM };

/** The code from a form post or a JSON body; undefined when there is none. */
async function typedCode(req: Request, limits: BodyLimits): Promise<string | undefined> {
  const contentType = req.headers['content-type'];
  const body = await readBody(req, limits);
  if (isJsonContentType(contentType)) {
    const parsed = parseJson(body) as { code?: unknown } | null;
    return typeof parsed?.code === 'string' ? parsed.code : undefined;
  }
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '')) {
    return new URLSearchParams(body.toString('utf8')).get('code') ?? undefined;
  }
  throw new HttpError(415, 'unsupported_media_type');
}

/**
 * `/persona/start/code`: a person types the short code a help-desk agent read to them and gets the
 * way into `/persona/start` for the code's identity, a signed link valid for SIGNED_LINK_TTL (so it
 * keeps every check a link has: one identity, one purpose, refused in another account's browser).
 * The answer is a page with that link rather than a redirect, so the form's `form-action 'self'`
 * never meets Persona's address (browsers check a form's redirects against it). Every failure answers alike, whether the code never existed,
 * expired, was used or destroyed.
 */
export function codeEntryRoute(router: IRouter, context: RouteContext & { helpDesk: HelpDesk }): void {
  const { helpDesk } = context;
  const bodyLimits: BodyLimits = {
    limitBytes: BODY_LIMIT_BYTES,
    idleTimeoutMs: context.config.http.bodyIdleTimeoutMs,
    readers: new InFlightLimit(CODE_ENTRIES_AT_ONCE),
  };
  const messagesFor = (req: Request) => context.messages.negotiate(req.get('accept-language'));
  /** `audited`: the audit has counted it already (a code's end is audited with its identity). */
  const refuse = (req: Request, res: Response, outcome: string, audited = false) => {
    if (!audited) context.metrics.countAdminAction('short_code.redeem', outcome);
    requestLocals(res).logFields.outcome = outcome;
    const messages = messagesFor(req);
    respondWith(req, res, 400, messages, INVALID, {
      error: { code: 'invalid_code', message: messages.text(INVALID.message) },
    });
  };

  const redeem: RequestHandler = async (req, res) => {
    const client = req.socket.remoteAddress ?? 'unknown';
    const now = context.now();
    const wait = helpDesk.codeAttempts.waitFor(client, now);
    if (wait !== undefined) {
      req.resume();
      requestLocals(res).logFields.outcome = 'too_many_attempts';
      throw new HttpError(429, 'too_many_requests', 'too many attempts', {
        'Retry-After': String(Math.ceil(wait / 1000)),
      });
    }
    const parts = readTypedCode((await typedCode(req, bodyLimits)) ?? '');
    if (parts === undefined) return refuse(req, res, 'malformed');
    const redemption = await helpDesk.codes.redeem(parts.handle, helpDesk.digestOf(parts), now);
    if (redemption.kind === 'unknown' || redemption.kind === 'wrong') {
      helpDesk.codeAttempts.fail(client, now);
      return refuse(req, res, redemption.kind);
    }
    const { code } = redemption;
    await helpDesk.audit.record({
      actor: 'code_holder',
      action: 'short_code.redeem',
      identityId: code.identityId,
      outcome: redemption.kind,
      details: { issued_by: code.issuedBy },
    });
    if (redemption.kind === 'destroyed') {
      helpDesk.codeAttempts.fail(client, now);
      return refuse(req, res, 'destroyed', true);
    }
    const verifyUrl = context.links.signedFor(code.identityId, now, code.returnTo ?? undefined, {
      purpose: code.purpose,
    });
    if (verifyUrl === undefined) throw new HttpError(503, 'verification_unavailable');
    Object.assign(requestLocals(res).logFields, { identity_id: code.identityId, outcome: 'redeemed' });
    respondWith(
      req,
      res,
      200,
      messagesFor(req),
      {
        title: 'page.code_accepted.title',
        message: 'page.code_accepted.message',
        links: [{ href: verifyUrl, label: 'link.continue' }],
      },
      { verify_url: verifyUrl },
    );
  };

  router.get(CODE_ENTRY_PATH, ...pageHeaders, (req, res) =>
    respondWith(
      req,
      res,
      200,
      messagesFor(req),
      { ...ENTRY, links: wayForward(req, context, { support: true }) },
      {
        code_required: true,
      },
    ),
  );
  router.post(CODE_ENTRY_PATH, ...pageHeaders, redeem, userErrors(context));
}
