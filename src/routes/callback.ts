import { type IRouter, type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import { parseJson, readBody, requireJson, type BodyLimits } from '../http/body.js';
import { isDependencyFailure } from '../http/dependencyFailure.js';
import { HttpError, toHttpError } from '../http/httpError.js';
import { InFlightLimit } from '../http/inFlightLimit.js';
import type { RouteContext } from '../http/routeContext.js';
import { callOptions, requestLocals } from '../http/requestLog.js';
import { errorFields } from '../logger.js';
import { parsePersonaEvent } from '../persona/event.js';
import { checkSignatureHeader, verifySignedBody, type SignatureFailure } from '../persona/signature.js';
import type { WebhookResult } from '../metrics.js';
import { acceptedTemplateIds } from '../services.js';
import { receiveEvent } from '../verification/receiveEvent.js';
import type { TransitionOutcome } from '../verification/transition.js';

const RESULTS: Record<TransitionOutcome | 'ignored', WebhookResult> = {
  applied: 'applied',
  duplicate: 'duplicate',
  stale: 'stale',
  superseded: 'stale',
  unchanged: 'stale',
  unrecognised: 'ignored',
  ignored: 'ignored',
};

/** Persona waits 5 s for an answer (reference/persona-api.md); the Kratos read and write fit in 4. */
const CALLBACK_BUDGET_MS = 4_000;

/**
 * Persona's largest bodies are inquiry events with `included`: the documented events are about 7 KB
 * with two included resources (reference/examples/persona/), a government-id verification with its
 * checks is about 8 KB, and an inquiry after several attempts, with its sessions, verifications,
 * documents and reports, includes a few dozen resources: some 100 to 150 KB. 256 KiB leaves a margin
 * above that; a larger body is answered 413 without being read.
 */
const CALLBACK_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Callback bodies being read at once, before their signature can be checked: whoever sends them,
 * they hold at most 32 x 256 KiB = 8 MiB. Persona sends a body in one go, so its place is taken for
 * milliseconds; a 33rd body pushes out the reader that has been at it longest, which is whoever
 * stalls. Refusing the newcomer instead would let 32 forged, dripping bodies keep every genuine
 * delivery out.
 */
const CALLBACK_BODIES_AT_ONCE = 32;

const SIGNATURE_PROBLEMS: Record<SignatureFailure, string> = {
  missing_header: 'missing Persona-Signature header',
  malformed_header: 'Persona-Signature must be t=<unix seconds>,v1=<hex> (space-separated sets while Persona rotates)',
  timestamp_out_of_tolerance: 'Persona-Signature timestamp is outside the accepted window; check the server clock',
  no_matching_signature:
    'no Persona-Signature matches: check PERSONA_WEBHOOK_SECRET (the whole wbhsec_ value) and that no proxy rewrites the body',
};

export function callbackRoute(router: IRouter, context: RouteContext): void {
  const { config } = context;

  const bodyLimits: BodyLimits = {
    limitBytes: CALLBACK_BODY_LIMIT_BYTES,
    idleTimeoutMs: config.http.bodyIdleTimeoutMs,
    readers: new InFlightLimit(CALLBACK_BODIES_AT_ONCE),
  };

  const refuseSignature = (res: Response, reason: SignatureFailure) => {
    requestLocals(res).logFields.signature = reason;
    return new HttpError(401, 'invalid_signature', SIGNATURE_PROBLEMS[reason]);
  };

  const receive: RequestHandler = async (req, res) => {
    const { log, logFields } = requestLocals(res);
    // The header's shape and timestamps are checked before any byte of the body is read: a forged
    // or replayed request costs neither the body's memory nor an HMAC over it.
    const header = checkSignatureHeader({
      header: req.get('persona-signature'),
      nowSeconds: Math.floor(context.now() / 1000),
      toleranceSeconds: config.persona.signatureToleranceSeconds,
    });
    if (!header.ok) throw refuseSignature(res, header.reason);
    const body = await readBody(req, bodyLimits);
    const verification = verifySignedBody(header.candidates, body, config.persona.webhookSecrets);
    if (!verification.valid) throw refuseSignature(res, verification.reason);

    const parsed = parsePersonaEvent(parseJson(body));
    if (!parsed.ok) throw new HttpError(400, 'invalid_event', parsed.problem);
    const { event } = parsed;
    Object.assign(logFields, { persona_event_id: event.id, event_name: event.name });

    try {
      const result = await receiveEvent(
        { ...context, templateIds: acceptedTemplateIds(config) },
        event,
        callOptions(res, CALLBACK_BUDGET_MS),
      );
      Object.assign(logFields, {
        outcome: result.outcome,
        ...(result.outcome === 'ignored' && { reason: result.reason }),
        ...(result.identityId !== undefined && { identity_id: result.identityId }),
        ...(result.outcome !== 'ignored' && result.purpose !== undefined && { purpose: result.purpose }),
      });
      if (
        result.outcome === 'applied' &&
        (result.purpose === 'step_up' || result.purpose === 'recovery') &&
        result.status !== undefined &&
        config.record.declinedStatuses.has(result.status)
      ) {
        // Reported, never acted on: the standing decision and the account stay as they are (README,
        // "Step-up" and "Recovery by verification"), but someone may be trying to pass as this person.
        log.warn(
          { identity_id: result.identityId, purpose: result.purpose, persona_event_id: event.id },
          `${result.purpose === 'step_up' ? 'step-up' : 'recovery'} verification declined`,
        );
      }
      if (result.outcome === 'ignored' && result.reason === 'record_unreadable') {
        // Not acknowledged: Persona delivers again for about two days, while someone fixes the record.
        log.error(
          { identity_id: result.identityId, persona_event_id: event.id },
          'verification record cannot be interpreted; fix or remove metadata_admin.persona',
        );
        throw new HttpError(503, 'record_unreadable', "the identity's verification record cannot be interpreted now");
      }
      context.metrics.countWebhook(event.name, RESULTS[result.outcome]);
      res
        .status(200)
        .json(
          result.outcome === 'ignored'
            ? { outcome: result.outcome, reason: result.reason }
            : { outcome: result.outcome },
        );
    } catch (error) {
      if (!isDependencyFailure(error)) throw error;
      // Persona delivers again on any non-2xx answer, for about 51 hours: nothing is lost (a
      // section that failed was rolled back, its inbox entry with it).
      log.warn(
        { persona_event_id: event.id, ...errorFields(error) },
        'event not applied; Persona will deliver it again',
      );
      logFields.outcome = 'failed';
      throw new HttpError(503, 'temporarily_unavailable', 'the event could not be applied now; deliver it again later');
    }
  };

  /** Deliveries that end in an error are counted too: refused (4xx) or to be delivered again (5xx). */
  const countFailure: ErrorRequestHandler = (error, _req, res, next) => {
    const eventName = requestLocals(res).logFields['event_name'];
    context.metrics.countWebhook(
      typeof eventName === 'string' ? eventName : undefined,
      toHttpError(error).status >= 500 ? 'failed' : 'rejected',
    );
    next(error);
  };

  router.post('/persona/callback', requireJson, receive, countFailure);
}
