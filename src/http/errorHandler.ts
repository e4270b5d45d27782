import type { ErrorRequestHandler } from 'express';
import { errorFields } from '../logger.js';
import { closeUnlessBodyReceived } from './body.js';
import { HttpError, toHttpError } from './httpError.js';
import { requestLocals } from './requestLog.js';

/**
 * The one place errors become responses: a stable code and a safe message, never a stack or a
 * peer's error text (those go to the log, without personal data).
 */
export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const httpError = toHttpError(error);
  const locals = requestLocals(res);
  locals.logFields.error_code = httpError.code;
  if (!(error instanceof HttpError) && httpError.status >= 500)
    locals.log.error(errorFields(error), 'request failed unexpectedly');
  if (res.headersSent) return;
  closeUnlessBodyReceived(req, res);
  res
    .status(httpError.status)
    .set(httpError.headers)
    .json({ error: { code: httpError.code, message: httpError.message } });
};
