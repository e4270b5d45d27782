/**
 * An error with the status and stable code it is answered with; its message must be safe to show.
 * On the user routes the code picks the text from the message catalogue (userErrors.ts), so those
 * errors carry no message of their own.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string = code,
    /** Sent with the answer, such as `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 429: the page and the JSON take their text from the catalogue; `Retry-After` says how long to wait. */
export const tooManyRequests = (retryAfterMs: number, message: string) =>
  new HttpError(429, 'too_many_requests', message, { 'Retry-After': String(Math.ceil(retryAfterMs / 1000)) });

/** The statuses and codes raw-body's failures are answered with (its `type` values). */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'payload_too_large', 'request body is too large'],
  'request.aborted': [400, 'request_aborted', 'request was aborted'],
  'request.size.invalid': [400, 'invalid_request', 'request size did not match Content-Length'],
};

/**
 * Turns any error into the HttpError it is answered with. Other client errors raised by Express's
 * own layers (http-errors with a 4xx status) keep their status; everything else is a bare 500.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { type, status } = (error ?? {}) as { type?: unknown; status?: unknown };
  const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  if (known !== undefined) return new HttpError(...known);
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HttpError(status, 'invalid_request', 'invalid request');
  return new HttpError(500, 'internal_error', 'internal error');
}
