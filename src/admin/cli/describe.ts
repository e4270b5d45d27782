import type { z } from 'zod';
import type { IdentityRedaction } from '../../privacy/redactIdentity.js';
import type { SweepReport } from '../../privacy/sweep/redactionSweeps.js';
import type { UpgradeCounts } from '../operations/upgradeRecords.js';
import type { cohortResponse, linkResponse, verificationResponse } from '../schemas.js';

/** What the commands print for people; `--json` prints the admin API's answers instead. */

export function describeVerification(answer: z.input<typeof verificationResponse>): string {
  const { record, decision, reverification, login } = answer;
  const recordLine =
    answer.record_state === 'unreadable'
      ? `unreadable (${answer.unreadable_reason}): fix or remove metadata_admin.persona`
      : answer.record_state === 'none'
        ? 'none'
        : `inquiry ${record?.inquiry_id ?? '-'} ${record?.status}${answer.stored_version_current ? '' : ' (written by 0.1.0: upgrade-records rewrites it)'}`;
  const decisionLine =
    decision == null
      ? 'none'
      : `${decision.outcome} (${decision.inquiry_id ?? 'unknown inquiry'}, ${decision.decided_at ?? 'unknown time'})`;
  const requirement = reverification.requirement;
  const reverifyLine = !reverification.required
    ? 'not required'
    : requirement != null
      ? `required since ${requirement.required_at} (${requirement.reason})${requirement.block_login ? ', logins blocked until then' : ''}`
      : 'required: the approval is older than REVERIFY_AFTER';
  const purposes = Object.entries(answer.purposes ?? {}).map(
    ([purpose, result]) => `  ${purpose}: ${result?.status} (${result?.inquiry_id})`,
  );
  return [
    `identity ${answer.identity_id} (${answer.identity_state ?? 'state unknown'})`,
    `record: ${recordLine}`,
    `decision: ${decisionLine}`,
    `re-verification: ${reverifyLine}`,
    `login: ${login.allowed ? 'allowed' : `blocked with ${login.message_id}`} (${login.reason})`,
    `/persona/start would: ${answer.next_step}`,
    ...(purposes.length > 0 ? ['purposes:', ...purposes] : []),
    ...(answer.dashboard.inquiry !== null ? [`Persona: ${answer.dashboard.inquiry}`] : []),
    ...(answer.dashboard.decision !== null && answer.dashboard.decision !== answer.dashboard.inquiry
      ? [`Persona (decision): ${answer.dashboard.decision}`]
      : []),
  ].join('\n');
}

export function describeLink(answer: z.input<typeof linkResponse>): string {
  const warning =
    answer.next_step === 'declined'
      ? '\nNote: a decline stands; the person will be told so (a link grants no retry).'
      : '';
  return answer.kind === 'link'
    ? `link for ${answer.identity_id} (${answer.purpose}), valid until ${answer.expires_at}:\n${answer.url}${warning}`
    : `code for ${answer.identity_id} (${answer.purpose}): ${answer.code}\nvalid until ${answer.expires_at}, used once, ` +
        `destroyed after ${answer.attempts_allowed} wrong tries; the person types it at ${answer.code_entry_url}${warning}`;
}

export function describeCohort(answer: z.input<typeof cohortResponse>): string {
  const head = answer.dry_run
    ? `dry run: ${answer.matched} identities would be required to verify again (listed ${answer.listed})`
    : `required ${answer.changed} identities to verify again; ${answer.unchanged} unchanged, ${answer.failed} failed (matched ${answer.matched} of ${answer.listed} listed)`;
  const failed = answer.failed_identity_ids.length > 0 ? `\nfailed: ${answer.failed_identity_ids.join(' ')}` : '';
  const next =
    answer.next == null
      ? ''
      : `\nstopped before the end: go on with --required-at ${answer.next.required_at}` +
        (answer.next.page_token === null ? '' : ` --page-token ${answer.next.page_token}`);
  return `${head}${failed}${next}`;
}

export function describeUpgrade(counts: UpgradeCounts, dryRun: boolean): string {
  const head = dryRun
    ? `dry run: ${counts.outdated} records would be rewritten (listed ${counts.listed} identities)`
    : `rewrote ${counts.upgraded} of ${counts.outdated} records not written by this version (listed ${counts.listed} identities); ${counts.failed} failed`;
  const unreadable =
    counts.unreadable > 0
      ? `\n${counts.unreadable} records cannot be interpreted; fix or remove them: ${counts.unreadableIdentityIds.join(' ')}`
      : '';
  const failed = counts.failed > 0 ? `\nfailed: ${counts.failedIdentityIds.join(' ')}` : '';
  const next =
    counts.next === undefined
      ? ''
      : `\nstopped before the end: go on with${counts.next === null ? ' the same command' : ` --page-token ${counts.next}`}`;
  return `${head}${unreadable}${failed}${next}`;
}

export function describeRedaction(answer: IdentityRedaction): string {
  const { account } = answer;
  const list = (ids: string[]) => (ids.length === 0 ? 'none' : ids.join(', '));
  const lines = [
    `${answer.dry_run ? 'dry run: would redact' : 'redacted'} the Persona data of ${answer.identity_id}` +
      (answer.identity_found ? '' : ' (no longer in Kratos)'),
    `account: ${account === null ? 'none' : `${account.id} ${account.redacted ? 'redacted whole' : 'kept (it holds inquiries not ours)'}`}`,
    `inquiries with the account: ${list(answer.redacted_with_account)}`,
    `inquiries one by one: ${list(answer.redacted_inquiries)}`,
    `already redacted: ${list(answer.already_redacted)}`,
    `not ours, left alone: ${list(answer.not_ours)}`,
  ];
  if (!answer.dry_run)
    lines.push(
      `record: ${answer.record_updated ? 'updated' : 'unchanged'}; decision ${answer.decision_forgotten ? 'forgotten' : 'kept'}`,
    );
  return lines.join('\n');
}

export function describeSweeps(report: SweepReport, dryRun: boolean): string {
  const lines: string[] = [];
  const { deleted, retention } = report;
  const how = (complete: boolean, stopped: string | undefined) =>
    complete
      ? 'done'
      : stopped === 'all_missing'
        ? 'stopped (all_missing): no identity checked exists in Kratos; the next runs stop too until KRATOS_ADMIN_URL is right or one runs with --even-if-all-missing'
        : `stopped (${stopped ?? 'unfinished'}): the next run goes on from here`;
  if (deleted !== undefined)
    lines.push(
      `deleted identities${dryRun ? ' (dry run)' : ''}: checked ${deleted.checked}, missing ${deleted.missing}, ` +
        `waiting for the grace period ${deleted.waiting}, ${dryRun ? 'would redact' : 'redacted'} ${deleted.redacted}, ` +
        `failed ${deleted.failed}; ${how(deleted.complete, deleted.stopped)}`,
    );
  else lines.push('deleted identities: off (REDACT_DELETED_AFTER=off)');
  if (retention !== undefined)
    lines.push(
      `retention${dryRun ? ' (dry run)' : ''}: ${dryRun ? 'would redact' : 'redacted'} ${retention.redacted} inquiries, ` +
        `kept ${retention.recent} recent, failed ${retention.failed}; ${how(retention.complete, retention.stopped)}`,
    );
  else lines.push('retention: off (PERSONA_RETENTION unset)');
  return lines.join('\n');
}
