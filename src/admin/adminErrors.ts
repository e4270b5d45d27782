import { HttpError } from '../http/httpError.js';

/**
 * Every error the admin API answers, in one shape, `{"error": {"code", "message"}}`, with its
 * status. The README's table and the OpenAPI document are held to this list by a test.
 */
export const ADMIN_ERRORS = {
  invalid_request: { status: 400, when: 'A parameter or body field is missing or invalid; the message names it.' },
  invalid_json: { status: 400, when: 'The body is not JSON.' },
  invalid_encoding: { status: 400, when: 'The body is not UTF-8.' },
  request_aborted: { status: 400, when: 'The client closed the connection before the body was complete.' },
  invalid_return_to: { status: 400, when: '`return_to` is not under `RETURN_TO_ALLOWLIST` or `DEFAULT_RETURN_TO`.' },
  unauthorized: { status: 401, when: 'No bearer token, or not one of `ADMIN_API_TOKEN`.' },
  not_found: { status: 404, when: 'No such admin route.' },
  unknown_identity: { status: 404, when: 'Kratos has no identity with this id.' },
  request_timeout: { status: 408, when: 'The body stopped arriving (`HTTP_BODY_IDLE_TIMEOUT`); send it again.' },
  record_unreadable: {
    status: 409,
    when: "The identity's record cannot be interpreted; fix or remove `metadata_admin.persona` first.",
  },
  decline_kept: {
    status: 409,
    when: 'Forgetting was asked while the standing decision is a decline (or held for review): a redacted decline still blocks. Redact without forgetting.',
  },
  decision_pending: {
    status: 409,
    when: 'Forgetting was asked while the inquiry in progress is not decided yet: its decline would go unheeded. Redact without forgetting, or forget once Persona has decided it.',
  },
  links_unavailable: { status: 409, when: '`PUBLIC_BASE_URL` is unset, so there is no address to link to.' },
  payload_too_large: { status: 413, when: 'The body is larger than the route takes.' },
  unsupported_media_type: { status: 415, when: 'The body is not `application/json`.' },
  unsupported_encoding: { status: 415, when: 'The body is compressed (`Content-Encoding`).' },
  audit_log_only: { status: 501, when: 'Without `DATABASE_URL` the audit is the log only: there is nothing to list.' },
  codes_unavailable: {
    status: 503,
    when: 'Short codes cannot be stored now (as many as the process keeps are live); try again or send a link.',
  },
  temporarily_unavailable: {
    status: 503,
    when: 'Kratos, Persona or the database (DATABASE_URL) did not answer in time, or failed; try again.',
  },
  internal_error: { status: 500, when: 'A bug; the log has the details.' },
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export const adminError = (code: AdminErrorCode, message: string) =>
  new HttpError(ADMIN_ERRORS[code].status, code, message);
