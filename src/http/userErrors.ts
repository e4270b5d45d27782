import type { ErrorRequestHandler } from 'express';
import { PUBLIC_URL_REDIRECTS } from '../kratos/kratosClient.js';
import { errorFields } from '../logger.js';
import type { MessageKey, Messages } from '../messages/catalogue.js';
import { OutboundError } from '../outbound/outboundError.js';
import { closeUnlessBodyReceived } from './body.js';
import { isDependencyFailure } from './dependencyFailure.js';
import { HttpError, toHttpError } from './httpError.js';
import { respondWith } from './pages.js';
import { requestLocals } from './requestLog.js';
import type { RouteContext } from './routeContext.js';
import { wayForward, type Offers } from './wayForward.js';

/**
 * The texts of an error: `error.<code>` when the catalogue has the code, else by status, so a
 * new code never shows its name to a person.
 */
function errorTexts(messages: Messages, error: HttpError): { title: MessageKey; message: MessageKey } {
  const title = `error.${error.code}.title`;
  const message = `error.${error.code}.message`;
  if (messages.has(title) && messages.has(message)) return { title, message };
  if (error.status === 503) return { title: 'error.unavailable.title', message: 'error.unavailable.message' };
  if (error.status >= 500) return { title: 'error.internal_error.title', message: 'error.internal_error.message' };
  return { title: 'error.invalid_request.title', message: 'error.invalid_request.message' };
}

/** Who is not signed in (or no longer exists) signs in; what failed on our side is tried again. */
const offersFor = (status: number): Offers => ({
  signIn: status === 401 || status === 404,
  retry: status >= 500 || status === 429,
  support: true,
});

/**
 * Errors of the pages users reach (start, status), as a page for browsers and JSON otherwise, in
 * the language the browser prefers. A Kratos, Persona or database failure is a 503, never its
 * details.
 */
export function userErrors(context: RouteContext): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const { log, logFields } = requestLocals(res);
    const httpError = isDependencyFailure(error) ? new HttpError(503, 'temporarily_unavailable') : toHttpError(error);
    logFields.error_code = httpError.code;
    // The recovery form's body may still be arriving (too slow, too large): it is not waited for.
    closeUnlessBodyReceived(req, res);
    res.set(httpError.headers);
    // The only call of these routes that meets a redirect is the session check (kratosClient.ts).
    if (error instanceof OutboundError && error.failure.kind === 'redirect')
      log.error(errorFields(error), PUBLIC_URL_REDIRECTS);
    else if (isDependencyFailure(error)) log.warn(errorFields(error), 'verification step failed');
    else if (!(error instanceof HttpError) && httpError.status >= 500)
      log.error(errorFields(error), 'request failed unexpectedly');
    const messages = context.messages.negotiate(req.get('accept-language'));
    const texts = errorTexts(messages, httpError);
    respondWith(
      req,
      res,
      httpError.status,
      messages,
      { ...texts, links: wayForward(req, context, offersFor(httpError.status)) },
      { error: { code: httpError.code, message: messages.text(texts.message) } },
    );
  };
}
