import { z } from 'zod';
import { defineRoute, type AdminRoute } from './adminRoute.js';
import { adminError } from './adminErrors.js';
import { openApiDocument } from './openApiDocument.js';
import { issueLink } from './operations/issueLink.js';
import { lookUpVerification } from './operations/lookUpVerification.js';
import { redactOnRequest } from './operations/redactOnRequest.js';
import { requireReverification } from './operations/requireReverification.js';
import { reverifyCohort } from './operations/reverifyCohort.js';
import {
  actor,
  auditQuery,
  auditResponse,
  cohortRequest,
  cohortResponse,
  identityParams,
  linkRequest,
  linkResponse,
  redactionRequest,
  redactionResponse,
  reverificationRequest,
  reverificationResponse,
  verificationResponse,
} from './schemas.js';

/** A cohort call answers within this long; `next` says where to go on (proxies cut longer requests). */
const COHORT_BUDGET_MS = 20_000;

let document: Record<string, unknown> | undefined;

/**
 * The admin API, one entry per route. A new capability adds its entry here and its operation under
 * operations/; the command line (cli/commands.ts) calls the same operations.
 */
export const ADMIN_ROUTES: AdminRoute[] = [
  defineRoute({
    method: 'get',
    path: '/admin/identities/{id}/verification',
    operationId: 'getVerification',
    summary: "An identity's verification",
    description:
      'The record (ids, statuses, times: no personal data), the standing decision, each purpose’s latest result, ' +
      'whether it must verify again and why, what the login gate and /persona/start would do now, and links ' +
      "to the inquiries in Persona's dashboard.",
    params: identityParams,
    query: z.strictObject({ actor }),
    response: { description: 'The verification.', schema: verificationResponse },
    errors: ['unknown_identity', 'temporarily_unavailable'],
    handle: ({ params, query }, context) => lookUpVerification(context, params.id, query.actor),
  }),
  defineRoute({
    method: 'post',
    path: '/admin/identities/{id}/verification-links',
    operationId: 'createVerificationLink',
    summary: 'A link or a short code for the person to verify',
    description:
      'A signed link to /persona/start for this identity and purpose (default 24 hours, at most 72), or a short ' +
      'code the person types at /persona/start/code (default 15 minutes, at most 1 hour; destroyed after 5 wrong ' +
      'tries; used once). It grants that identity’s verification only: it lifts no decline, and a browser ' +
      'signed in as another account is refused.',
    params: identityParams,
    body: linkRequest,
    response: { description: 'The link or the code, for the agent to hand over.', schema: linkResponse },
    errors: [
      'unknown_identity',
      'invalid_return_to',
      'links_unavailable',
      'codes_unavailable',
      'temporarily_unavailable',
    ],
    handle: ({ params, body }, context) => issueLink(context, params.id, body),
  }),
  defineRoute({
    method: 'post',
    path: '/admin/identities/{id}/reverification',
    operationId: 'requireReverification',
    summary: 'Require the identity to verify again',
    description:
      'Recorded on the identity. With block_login (default) the login gate answers 4100003 with verify_url, ' +
      'under either login policy, until an approval of an inquiry opened after this; /persona/start opens a ' +
      're-verification inquiry. A declined identity stays declined.',
    params: identityParams,
    body: reverificationRequest,
    response: { description: 'The requirement as recorded.', schema: reverificationResponse },
    errors: ['unknown_identity', 'record_unreadable', 'temporarily_unavailable'],
    handle: ({ params, body }, context) => requireReverification(context, params.id, body),
  }),
  defineRoute({
    method: 'post',
    path: '/admin/reverification',
    operationId: 'requireCohortReverification',
    summary: 'Require a cohort to verify again',
    description:
      "Pages through Kratos's identity list for identity_ids, a schema_id or an approval older than " +
      'verified_before; dry_run counts first. Answers within about 20 seconds: when not done, send `next` back ' +
      'to go on from where it stopped (also after a failure; identities required since `required_at` are left ' +
      'as they are).',
    body: cohortRequest,
    response: { description: 'What this call did, and where to go on.', schema: cohortResponse },
    errors: ['temporarily_unavailable'],
    handle: ({ body }, context) => reverifyCohort(context, body, { budgetMs: COHORT_BUDGET_MS }),
  }),
  defineRoute({
    method: 'post',
    path: '/admin/identities/{id}/redaction',
    operationId: 'redactIdentity',
    summary: "Redact the identity's Persona data",
    description:
      "Redacts at Persona (irreversibly) the identity's account whole, or each inquiry this service opened for it, " +
      'and notes it on the record, which keeps ids, statuses, times and the standing decision: a redacted decline ' +
      'still blocks. forget_decision also forgets the verification, never a decline. dry_run lists what would be ' +
      'redacted, by id. An identity Kratos no longer has is redacted by what the service opened for it (for ' +
      'identity-deleted events). A failure midway answers 503; what was redacted is recorded, and the same request ' +
      'finishes the rest.',
    params: identityParams,
    body: redactionRequest,
    response: { description: 'What was redacted (or would be, with dry_run), by id.', schema: redactionResponse },
    errors: ['record_unreadable', 'decline_kept', 'decision_pending', 'temporarily_unavailable'],
    handle: ({ params, body }, context) => redactOnRequest(context, params.id, body),
  }),
  defineRoute({
    method: 'get',
    path: '/admin/audit',
    operationId: 'listAudit',
    summary: 'The audit, newest first',
    description:
      'Rows of the `audit_log` table (with DATABASE_URL), optionally of one identity. Without a database the ' +
      'audit is the log only (`"msg":"admin action"` lines) and this answers 501.',
    query: auditQuery,
    response: { description: 'Audit entries.', schema: auditResponse },
    errors: ['audit_log_only', 'temporarily_unavailable'],
    async handle({ query }, context) {
      const { table } = context.helpDesk.audit;
      if (table === undefined) {
        throw adminError('audit_log_only', 'Without DATABASE_URL the audit is the log only: read the log lines.');
      }
      const entries = await table.list({ identityId: query.identity_id, limit: query.limit });
      return {
        entries: entries.map((entry) => ({
          id: entry.id,
          at: entry.at,
          actor: entry.actor,
          action: entry.action,
          identity_id: entry.identityId ?? null,
          cohort_size: entry.cohortSize ?? null,
          outcome: entry.outcome,
          details: entry.details ?? {},
        })),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/admin/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    description: 'The admin API as OpenAPI 3.1, generated from the schemas the routes validate with.',
    response: { description: 'An OpenAPI 3.1 document.', schema: z.record(z.string(), z.unknown()) },
    errors: [],
    handle: async () => (document ??= openApiDocument(ADMIN_ROUTES)),
  }),
];
