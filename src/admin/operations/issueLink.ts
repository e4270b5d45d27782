import type { z } from 'zod';
import { parseDuration } from '../../duration.js';
import { planNextStep } from '../../verification/nextStep.js';
import { HttpError } from '../../http/httpError.js';
import type { AdminContext } from '../adminContext.js';
import { adminError } from '../adminErrors.js';
import { failureOutcome } from '../audit/auditLog.js';
import { CODE_TTL, LINK_TTL, type linkRequest, type linkResponse } from '../schemas.js';
import { drawCode, MAX_WRONG_ATTEMPTS } from '../shortCodes/shortCode.js';

/** A handle already taken by a live code is drawn again; five draws all taken means the store is full. */
const HANDLE_DRAWS = 5;

/**
 * A way into `/persona/start` for one identity and purpose, for an agent to hand over: a signed
 * link (email, chat), or a short code the person types at `/persona/start/code` (phone). Either
 * grants only that identity's verification until it expires: it lifts no decline (without
 * ALLOW_RETRIES a declined person who opens it is told so), and a browser signed in as another
 * account is refused (409).
 */
export async function issueLink(
  context: AdminContext,
  identityId: string,
  request: z.output<typeof linkRequest>,
): Promise<z.input<typeof linkResponse>> {
  const { links, helpDesk } = context;
  const action = request.kind === 'link' ? 'link.issue' : 'short_code.issue';
  const audit = (outcome: string, details: Record<string, string | null> = {}) =>
    helpDesk.audit.record({ actor: request.actor, action, identityId, outcome, details });

  if (!links.available) {
    await audit('links_unavailable');
    throw adminError('links_unavailable', 'Set PUBLIC_BASE_URL to issue links and codes.');
  }
  const returnTo = context.returnTo.resolve(request.return_to);
  if (!returnTo.ok) {
    await audit('invalid_return_to');
    throw adminError('invalid_return_to', 'return_to is not allowed by RETURN_TO_ALLOWLIST.');
  }
  try {
    return await issueTo(context, identityId, request, returnTo.url, audit);
  } catch (error) {
    // Refusals are audited where they are decided; a failing Kratos or database is audited here.
    if (!(error instanceof HttpError)) await audit(failureOutcome(error));
    throw error;
  }
}

/** The link or code, once the request is allowed: refusals from here on are audited where decided. */
async function issueTo(
  context: AdminContext,
  identityId: string,
  request: z.output<typeof linkRequest>,
  returnTo: string | undefined,
  audit: (outcome: string, details?: Record<string, string | null>) => Promise<void>,
): Promise<z.input<typeof linkResponse>> {
  const { links, helpDesk } = context;
  const stored = await context.store.read(identityId);
  if (!stored.found) {
    await audit('unknown_identity');
    throw adminError('unknown_identity', 'Kratos has no identity with this id.');
  }
  const now = context.now();
  const nextStep = planNextStep(stored.reading, context.nextStepRules, now).kind;
  const ttl = request.kind === 'link' ? LINK_TTL : CODE_TTL;
  const expiresAt = now + (request.expires_in === undefined ? ttl.defaultMs : (parseDuration(request.expires_in) ?? 0));
  const answer = {
    identity_id: identityId,
    kind: request.kind,
    purpose: request.purpose,
    expires_at: new Date(expiresAt).toISOString(),
    next_step: nextStep,
  };

  if (request.kind === 'link') {
    const url = links.signedUntil(identityId, expiresAt, returnTo, { purpose: request.purpose }) as string;
    await audit('ok', { purpose: request.purpose, expires_at: answer.expires_at });
    return { ...answer, url, code: null, code_entry_url: null, attempts_allowed: null };
  }

  for (let draw = 0; draw < HANDLE_DRAWS; draw += 1) {
    const code = drawCode();
    const result = await helpDesk.codes.issue(
      {
        handle: code.handle,
        secretDigest: helpDesk.digestOf(code),
        identityId,
        purpose: request.purpose,
        returnTo: returnTo ?? null,
        expiresAt,
        attemptsLeft: MAX_WRONG_ATTEMPTS,
        issuedBy: request.actor,
      },
      now,
    );
    if (result === 'full') break;
    if (result === 'handle_taken') continue;
    await audit('ok', { purpose: request.purpose, expires_at: answer.expires_at });
    return {
      ...answer,
      url: null,
      code: code.display,
      code_entry_url: links.codeEntry as string,
      attempts_allowed: MAX_WRONG_ATTEMPTS,
    };
  }
  await audit('codes_unavailable');
  throw adminError('codes_unavailable', 'Too many short codes are live; send a link instead, or try again later.');
}
