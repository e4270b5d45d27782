import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { START_PURPOSES } from '../http/startLinks.js';
import { isIdentityId, uuidField } from '../identityId.js';
import { MISMATCH_ACTIONS } from '../matching/attributeMatch.js';
import { RULE_SETS } from '../matching/ruleSets.js';
import { SIGNED_LINK_MAX_TTL_SECONDS } from '../security/signedLink.js';
import { VERIFIED_ATTRIBUTES } from '../persona/verifiedDocument.js';
import { PURPOSES } from '../verification/record.js';
import { REASON_MAX_LENGTH } from '../verification/reverification.js';
import { ADMIN_ERRORS } from './adminErrors.js';
import { CODE_DEFAULT_TTL_MS, CODE_MAX_TTL_MS } from './shortCodes/shortCode.js';

/**
 * The admin API's requests and answers, as zod schemas: the routes validate with them and the
 * OpenAPI document (openApiDocument.ts) is generated from them. Answers carry ids, statuses, codes
 * and times only, never personal data.
 */

export const identityId = uuidField('must be a Kratos identity id (a UUID)')
  .refine(isIdentityId, 'must not be the nil UUID')
  .describe('A Kratos identity id.');

export const identityParams = z.strictObject({ id: identityId });

export const actor = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@+:-]{0,99}$/,
    'must be 1 to 100 letters, digits or ._@+:- naming who acts, e.g. agent-42',
  )
  .describe("Who acts: the agent's handle or id in your help desk, kept in the audit. Never the end user's data.");

const reason = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(REASON_MAX_LENGTH, `must be at most ${REASON_MAX_LENGTH} characters`)
  .regex(/^[^\p{Cc}]*$/u, 'must be one line of text')
  .describe(
    'Why, as a code or a short phrase (`role_change`, `incident-2026-07`). It is stored on the identity: no personal data.',
  );

const time = z.iso.datetime({ offset: true });

/** Agents' links travel by email and chat: a day by default, at most as long as any link may be valid (three days). */
export const LINK_TTL = { defaultMs: 24 * 3_600_000, minMs: 5 * 60_000, maxMs: SIGNED_LINK_MAX_TTL_SECONDS * 1_000 };
export const CODE_TTL = { defaultMs: CODE_DEFAULT_TTL_MS, minMs: 60_000, maxMs: CODE_MAX_TTL_MS };

const describeMs = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`);

export const linkRequest = z
  .strictObject({
    actor,
    kind: z
      .enum(['link', 'short_code'])
      .default('link')
      .describe(
        '`link`: a signed link to /persona/start, to send by email or chat. `short_code`: a code for phone support, typed at /persona/start/code.',
      ),
    purpose: z
      .enum(START_PURPOSES)
      .default('verification')
      .describe(
        "What the link may be used for: the identity's verification (onboarding or re-verification), or a step-up (STEP_UP_MAX_AGE).",
      ),
    expires_in: z
      .string()
      .regex(/^(?:\d{1,6}(?:s|m|h|d))+$/, 'must be a duration such as 15m, 24h or 3d')
      .optional()
      .describe(
        `How long it stays valid: links ${describeMs(LINK_TTL.minMs)} to ${describeMs(LINK_TTL.maxMs)} ` +
          `(default ${describeMs(LINK_TTL.defaultMs)}), short codes ${describeMs(CODE_TTL.minMs)} to ` +
          `${describeMs(CODE_TTL.maxMs)} (default ${describeMs(CODE_TTL.defaultMs)}).`,
      ),
    return_to: z
      .string()
      .max(2048)
      .optional()
      .describe('Where the person goes back to after Persona; must be allowed by RETURN_TO_ALLOWLIST.'),
  })
  .superRefine((body, context) => {
    if (body.expires_in === undefined) return;
    const bounds = body.kind === 'link' ? LINK_TTL : CODE_TTL;
    const ms = parseDuration(body.expires_in);
    if (ms === undefined || ms < bounds.minMs || ms > bounds.maxMs) {
      context.addIssue({
        code: 'custom',
        path: ['expires_in'],
        message: `must be between ${describeMs(bounds.minMs)} and ${describeMs(bounds.maxMs)} for a ${body.kind}`,
      });
    }
  });

export const linkResponse = z.object({
  identity_id: identityId,
  kind: z.enum(['link', 'short_code']),
  purpose: z.enum(START_PURPOSES),
  expires_at: time,
  url: z.string().nullable().describe('The signed link (kind `link`); null for a short code.'),
  code: z.string().nullable().describe('The short code, `XXXXX-XXXXX` (kind `short_code`); null for a link.'),
  code_entry_url: z.string().nullable().describe('Where the person types the code (kind `short_code`).'),
  attempts_allowed: z.number().int().nullable().describe('Wrong tries the code takes before it is destroyed.'),
  next_step: z
    .string()
    .describe(
      'What /persona/start will do for this identity now: `create`, `open`, `resume`, `in_review`, `verified`, `declined` (a link grants no retry), `failed`, `unavailable`.',
    ),
});

export const reverificationRequest = z.strictObject({
  actor,
  reason,
  block_login: z
    .boolean()
    .default(true)
    .describe('The login gate answers 4100003 (with verify_url) until a new approval, under either login policy.'),
});

const requirement = z
  .object({
    required_at: time,
    reason: z.string(),
    block_login: z.boolean(),
    inquiry_id: z.string().nullable().describe('The inquiry in progress when it was required: it cannot meet it.'),
  })
  .describe('An operator’s requirement to verify again, met only by an approval of an inquiry opened after it.');

export const reverificationResponse = z.object({
  identity_id: identityId,
  reverification: requirement,
});

export const cohortRequest = z
  .strictObject({
    actor,
    reason,
    identity_ids: z.array(identityId).min(1).max(500).optional().describe('These identities (at most 500).'),
    schema_id: z.string().min(1).max(200).optional().describe('Every identity of this Kratos identity schema.'),
    verified_before: time.optional().describe('Every identity whose standing approval was decided before this time.'),
    block_login: z.boolean().default(true),
    dry_run: z.boolean().default(false).describe('Count the cohort; change nothing.'),
    page_size: z.number().int().min(1).max(500).default(250).describe("Identities per page of Kratos's list."),
    page_token: z.string().max(4096).optional().describe('From `next` of an earlier answer: go on from there.'),
    required_at: time
      .optional()
      .describe(
        'From `next` of an earlier answer, within 7 days: identities required since then are left as they are.',
      ),
  })
  .refine(
    (body) =>
      [body.identity_ids, body.schema_id, body.verified_before].filter((selector) => selector !== undefined).length ===
      1,
    'give exactly one of identity_ids, schema_id, verified_before',
  )
  .describe('Exactly one of `identity_ids`, `schema_id`, `verified_before` selects the cohort.');

export const cohortResponse = z.object({
  dry_run: z.boolean(),
  required_at: time,
  pages: z.number().int().describe("Pages of Kratos's identity list read in this call."),
  listed: z.number().int(),
  matched: z.number().int().describe('Identities in the cohort (with dry_run: who would be required).'),
  changed: z.number().int(),
  unchanged: z.number().int().describe('Already required since `required_at`, or no longer in the cohort.'),
  failed: z.number().int(),
  failed_identity_ids: z.array(z.string()).describe('The first 100 that failed: run them again by id.'),
  done: z.boolean(),
  next: z
    .object({ page_token: z.string().nullable(), required_at: time })
    .nullable()
    .describe('When not done: send these back (with the same body) to go on where this call stopped.'),
});

const attributeResult = z.enum(['match', 'mismatch', 'missing']);

const decision = z.object({
  outcome: z
    .enum(['approved', 'declined', 'needs_review'])
    .describe('`needs_review`: an approval held for review because its document did not match the traits.'),
  status: z.string(),
  inquiry_id: z.string().nullable(),
  inquiry_created_at: z.string().nullable(),
  decided_at: z.string().nullable(),
  purpose: z.enum(PURPOSES),
  attribute_match: z
    .object({
      outcome: attributeResult,
      attributes: z.partialRecord(z.enum(VERIFIED_ATTRIBUTES), attributeResult),
      rules: z.enum(RULE_SETS),
      on_mismatch: z.enum(MISMATCH_ACTIONS),
      checked_at: z.string(),
      first_approved_at: z.string(),
    })
    .optional()
    .describe('The comparison of the verified document with the traits (ATTRIBUTE_MATCH): outcomes, never values.'),
});

const purposeResult = z.object({
  inquiry_id: z.string(),
  status: z.string(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  decided_at: z.string().nullable(),
  outcome: z.enum(['approved', 'declined']).nullable(),
});

/** `metadata_admin.persona` as the service reads it (README, "The data written on identities"). */
const record = z
  .object({
    version: z.literal(2),
    inquiry_id: z.string().nullable(),
    status: z.string(),
    template_id: z.string().nullable(),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    decided_at: z.string().nullable(),
    last_event_id: z.string().nullable(),
    history: z.array(
      z.object({
        inquiry_id: z.string(),
        status: z.string(),
        decided_at: z.string().nullable(),
        purpose: z.enum(PURPOSES).optional(),
      }),
    ),
    purpose: z.enum(PURPOSES).nullable(),
    decision: decision.nullable(),
    decisions: z.array(decision),
    purposes: z.partialRecord(z.enum(PURPOSES), purposeResult),
    actions: z.object({
      deactivated_at: z.string().nullable(),
      sessions_revoked_at: z.string().nullable(),
      pending: z.array(z.literal('revoke_sessions')),
    }),
    recovery_code: z
      .object({
        inquiry_id: z.string(),
        inquiry_created_at: z.string().nullable(),
        decided_at: z.string().nullable(),
        issued_at: z.string(),
        second_factors_removed: z.boolean(),
      })
      .nullable()
      .describe('The last recovery by verification: which inquiry, when (never the code).'),
    reverification: requirement.nullable(),
    redaction: z
      .object({
        redacted_at: z.string(),
        account_redacted_at: z.string().nullable(),
        inquiries: z.array(z.object({ inquiry_id: z.string(), redacted_at: z.string() })),
        forgotten: z.object({ at: z.string(), inquiry_ids: z.array(z.string()) }).nullable(),
      })
      .nullable()
      .describe(
        'What was redacted at Persona (ids and times); `forgotten`: an operator had the verification forgotten.',
      ),
  })
  .describe('The record as read (records of 0.1.0 upgraded as the next write will write them).');

export const verificationResponse = z.object({
  identity_id: identityId,
  identity_state: z.string().nullable().describe('Kratos `state`: `active` or `inactive`.'),
  record_state: z
    .enum(['none', 'record', 'unreadable'])
    .describe('`unreadable`: present but cannot be interpreted (`unreadable_reason`); never read as no record.'),
  unreadable_reason: z.string().nullable(),
  stored_version_current: z
    .boolean()
    .nullable()
    .describe('Whether the stored record is version 2; `false`: `npm run admin -- upgrade-records` rewrites it.'),
  record: record.nullable(),
  decision: decision.nullable().describe('The standing decision the login gate goes by.'),
  purposes: z.partialRecord(z.enum(PURPOSES), purposeResult).describe("Each purpose's latest result."),
  reverification: z.object({
    required: z.boolean(),
    because: z
      .enum(['operator', 'reverify_after'])
      .nullable()
      .describe('`operator`: required through this API; `reverify_after`: the approval is older than REVERIFY_AFTER.'),
    requirement: requirement.nullable(),
  }),
  login: z
    .object({ allowed: z.boolean(), reason: z.string(), message_id: z.number().int().nullable() })
    .describe('What the login gate would answer now (from the admin record).'),
  next_step: z.string().describe('What /persona/start would do now.'),
  dashboard: z
    .object({
      inquiry: z.string().nullable().describe("The inquiry in progress in Persona's dashboard."),
      decision: z.string().nullable().describe("The standing decision's inquiry in Persona's dashboard."),
    })
    .describe('Links into Persona’s dashboard, for an operator signed in there.'),
});

export const redactionRequest = z.strictObject({
  actor,
  dry_run: z.boolean().default(false).describe('List what would be redacted, by id only; change nothing.'),
  forget_decision: z
    .boolean()
    .default(false)
    .describe(
      'Also forget the verification on the identity (it reads as never verified). Refused (409 decline_kept) ' +
        'while the standing decision is a decline or held for review: a redacted decline still blocks; refused ' +
        '(409 decision_pending) while the inquiry in progress is not decided yet.',
    ),
  whole_account: z
    .boolean()
    .default(false)
    .describe(
      "Redact the identity's Persona account whole even when it holds inquiries this service did not open " +
        '(listed in `not_ours` otherwise).',
    ),
});

export const redactionResponse = z.object({
  identity_id: identityId,
  dry_run: z.boolean(),
  identity_found: z
    .boolean()
    .describe('Whether Kratos has the identity; a deleted one is redacted by what the service opened for it.'),
  account: z
    .object({ id: z.string(), redacted: z.boolean() })
    .nullable()
    .describe("The Persona account of the identity's reference id: redacted whole, or kept; null when none."),
  redacted_inquiries: z.array(z.string()).describe('Inquiries of this service, redacted one by one.'),
  redacted_with_account: z.array(z.string()).describe('Inquiries of this service redacted with the account.'),
  already_redacted: z.array(z.string()),
  not_ours: z
    .array(z.string())
    .describe('Inquiries under the reference id that this service did not open: left alone.'),
  record_updated: z.boolean().describe('Whether the record on the identity now says what was redacted.'),
  decision_forgotten: z.boolean(),
});

export const auditQuery = z.strictObject({
  identity_id: identityId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditResponse = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      at: time,
      actor: z.string(),
      action: z.string(),
      identity_id: z.string().nullable(),
      cohort_size: z.number().int().nullable(),
      outcome: z.string(),
      details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    }),
  ),
});

export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ADMIN_ERRORS) as [keyof typeof ADMIN_ERRORS]),
      message: z.string().describe('Safe to show; names the offending field for invalid_request.'),
    }),
  })
  .describe('Every error of the admin API.');
