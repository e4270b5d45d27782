import type { ErrorRequestHandler } from 'express';
import { PUBLIC_URL_REDIRECTS } from '../kratos/kratosClient.js';
import { errorFields } from '../logger.js';
import { OutboundError } from '../outbound/outboundError.js';
import { HttpError, toHttpError } from './httpError.js';
import { respondWith } from './pages.js';
import { requestLocals } from './requestLog.js';

const TITLES: Record<number, string> = {
  400: 'This link cannot be used',
  401: 'Please sign in',
  404: 'Account not found',
  429: 'Please wait a moment',
  503: 'Please try again later',
};

/**
 * Errors of the pages users reach (start, status), as a page for browsers and JSON otherwise. A
 * Kratos or Persona failure is a 503 with the configured "unavailable" text, never its details.
 */
export function userErrors(unavailableText: string): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const { log, logFields } = requestLocals(res);
    const httpError =
      error instanceof OutboundError
        ? new HttpError(503, 'temporarily_unavailable', unavailableText)
        : toHttpError(error);
    logFields.error_code = httpError.code;
    res.set(httpError.headers);
    // The only call of these routes that meets a redirect is the session check (kratosClient.ts).
    if (error instanceof OutboundError && error.failure.kind === 'redirect')
      log.error(errorFields(error), PUBLIC_URL_REDIRECTS);
    else if (error instanceof OutboundError) log.warn(errorFields(error), 'verification step failed');
    else if (!(error instanceof HttpError) && httpError.status >= 500)
      log.error(errorFields(error), 'request failed unexpectedly');
    respondWith(
      req,
      res,
      httpError.status,
      { title: TITLES[httpError.status] ?? 'Something went wrong', message: httpError.message },
      { error: { code: httpError.code, message: httpError.message } },
    );
  };
}
