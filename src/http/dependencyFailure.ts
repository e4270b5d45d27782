import { CoordinationError } from '../coordination/coordination.js';
import { OutboundError } from '../outbound/outboundError.js';

/**
 * Kratos, Persona or the database failed: the request is answered 503 (or, where a 5xx would
 * strand a user, handled), never as an internal error, so that someone tries again.
 */
export const isDependencyFailure = (error: unknown): error is OutboundError | CoordinationError =>
  error instanceof OutboundError || error instanceof CoordinationError;
