import type { z } from 'zod';
import { UsageError, type CommandLine, type CommandSpec } from '../../commandLine.js';
import type { AdminContext } from '../adminContext.js';
import { ADMIN_ROUTES } from '../adminRoutes.js';
import { issueLink } from '../operations/issueLink.js';
import { lookUpVerification } from '../operations/lookUpVerification.js';
import { redactOnRequest } from '../operations/redactOnRequest.js';
import { requireReverification } from '../operations/requireReverification.js';
import { runSweepsOnce } from '../operations/redactionSweep.js';
import { reverifyCohort } from '../operations/reverifyCohort.js';
import { upgradeRecords } from '../operations/upgradeRecords.js';
import { openApiDocument } from '../openApiDocument.js';
import { actor, cohortRequest, identityId, linkRequest, redactionRequest, reverificationRequest } from '../schemas.js';
import {
  describeCohort,
  describeLink,
  describeRedaction,
  describeSweeps,
  describeUpgrade,
  describeVerification,
} from './describe.js';

/** One command of `npm run admin -- <command>`: its usage, and what it does with a context. */
export interface AdminCommand {
  spec: CommandSpec;
  /** One line for the list of commands. */
  summary: string;
  /** Writes to identities (warned about without a shared lock). */
  writes: boolean;
  /** `open` reads the configuration and builds the context (the same as the service's). */
  run(commandLine: CommandLine, open: () => Promise<AdminContext>): Promise<number>;
}

const print = (text: string) => process.stdout.write(`${text}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));
const progress = (name: string, line: string) => process.stderr.write(`admin ${name}: ${line}\n`);

/** Holds options to the admin API's schema; a problem names the option as typed. */
function parseInput<T extends z.ZodType>(schema: T, input: unknown, options: Record<string, string> = {}): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  const option = options[field] ?? (field === '' ? undefined : `--${field.replaceAll('_', '-')}`);
  const given = field === '' ? input : (input as Record<string, unknown>)[field];
  const message = given === undefined ? 'is required' : (issue?.message ?? 'invalid');
  throw new UsageError(option === undefined ? message : `${option}: ${message}`);
}

const identityArgument = (commandLine: CommandLine) => {
  const [id] = commandLine.positionals;
  if (id === undefined) throw new UsageError('an identity id is needed');
  return parseInput(identityId, id, { '': 'identity id' });
};

const text = (commandLine: CommandLine, name: string) => {
  const value = commandLine.values[name];
  return typeof value === 'string' ? value : undefined;
};
const integer = (commandLine: CommandLine, name: string) => {
  const value = text(commandLine, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name}: must be a whole number`);
  return Number(value);
};

const ACTOR_OPTION = '  --actor <who>          your handle or id in the help desk, kept in the audit (required)\n';
const JSON_OPTION = '  --json                 print the answer as JSON (as the admin API answers)\n';
const HELP_OPTION = '  -h, --help             this text\n';
const common = { actor: { type: 'string' }, json: { type: 'boolean' } } as const;

export const ADMIN_COMMANDS: Record<string, AdminCommand> = {
  verification: {
    summary: "an identity's verification: record, decision, purposes, what login and start would do",
    writes: false,
    spec: {
      name: 'admin verification',
      usage: `usage: admin verification <identity-id> --actor <who> [--json]

The identity's verification record (no personal data), its standing decision, each purpose's
latest result, whether it must verify again, what the login gate and /persona/start would do now,
and the inquiry's page in Persona's dashboard.

Options:
${ACTOR_OPTION}${JSON_OPTION}${HELP_OPTION}`,
      options: common,
      maxPositionals: 1,
    },
    async run(commandLine, open) {
      const id = identityArgument(commandLine);
      const who = parseInput(actor, text(commandLine, 'actor'), { '': '--actor' });
      const answer = await lookUpVerification(await open(), id, who);
      if (commandLine.values['json'] === true) printJson(answer);
      else print(describeVerification(answer));
      return 0;
    },
  },

  link: {
    summary: 'a signed link to /persona/start for the person, or a short code (--code)',
    writes: false,
    spec: {
      name: 'admin link',
      usage: `usage: admin link <identity-id> --actor <who> [--code] [--expires-in <duration>] [--return-to <url>] [--json]

A signed link to /persona/start for this identity (default 24h, at most 72h), to send by email or
chat; with --code a short code the person types at /persona/start/code (default 15m, at most 1h,
used once, destroyed after 5 wrong tries). Either grants that identity's verification only: it
lifts no decline. Short codes from the command line need DATABASE_URL (the service must find
them); without it, ask the admin API (POST /admin/identities/{id}/verification-links).

Options:
${ACTOR_OPTION}  --code                 a short code instead of a link
  --expires-in <duration>  how long it stays valid, e.g. 30m, 24h
  --return-to <url>      where the person goes back to (RETURN_TO_ALLOWLIST)
${JSON_OPTION}${HELP_OPTION}`,
      options: {
        ...common,
        code: { type: 'boolean' },
        'expires-in': { type: 'string' },
        'return-to': { type: 'string' },
      },
      maxPositionals: 1,
    },
    async run(commandLine, open) {
      const id = identityArgument(commandLine);
      const request = parseInput(linkRequest, {
        actor: text(commandLine, 'actor'),
        kind: commandLine.values['code'] === true ? 'short_code' : 'link',
        expires_in: text(commandLine, 'expires-in'),
        return_to: text(commandLine, 'return-to'),
      });
      const admin = await open();
      if (request.kind === 'short_code' && !admin.helpDesk.codesShared) {
        process.stderr.write(
          'admin link: short codes from the command line need DATABASE_URL, so that the running service finds them; ' +
            'without it, ask the admin API: POST /admin/identities/{id}/verification-links {"kind":"short_code"}\n',
        );
        return 1;
      }
      const answer = await issueLink(admin, id, request);
      if (commandLine.values['json'] === true) printJson(answer);
      else print(describeLink(answer));
      return 0;
    },
  },

  reverify: {
    summary: 'require the identity to verify again',
    writes: true,
    spec: {
      name: 'admin reverify',
      usage: `usage: admin reverify <identity-id> --actor <who> --reason <why> [--no-block-login] [--json]

Records on the identity that it must verify again. Its logins are blocked (message 4100003 with a
link to verify) under either login policy until an approval of an inquiry opened after now;
/persona/start opens that inquiry. A declined identity stays declined.

Options:
${ACTOR_OPTION}  --reason <why>         a code or a short phrase, stored on the identity: no personal data
  --no-block-login       record it, but let logins through until then
${JSON_OPTION}${HELP_OPTION}`,
      options: { ...common, reason: { type: 'string' }, 'no-block-login': { type: 'boolean' } },
      maxPositionals: 1,
    },
    async run(commandLine, open) {
      const id = identityArgument(commandLine);
      const request = parseInput(reverificationRequest, {
        actor: text(commandLine, 'actor'),
        reason: text(commandLine, 'reason'),
        block_login: commandLine.values['no-block-login'] !== true,
      });
      const answer = await requireReverification(await open(), id, request);
      if (commandLine.values['json'] === true) printJson(answer);
      else {
        const { reverification } = answer;
        print(
          `${id} must verify again (${reverification.reason}), required at ${reverification.required_at}` +
            (reverification.block_login ? '; its logins are blocked until then' : ''),
        );
      }
      return 0;
    },
  },

  'reverify-cohort': {
    summary: 'require a cohort to verify again (--ids, --schema-id or --verified-before)',
    writes: true,
    spec: {
      name: 'admin reverify-cohort',
      usage: `usage: admin reverify-cohort (--ids <id,...> | --schema-id <schema> | --verified-before <time>) --actor <who> --reason <why> [--dry-run] [options]

Requires every identity of the cohort to verify again, paging through Kratos's identity list.
Count first with --dry-run. When Kratos keeps refusing, it stops and prints how to go on
(--page-token, --required-at); going on leaves identities required since then as they are.

Options:
  --ids <id,...>         these identities (at most 500)
  --schema-id <schema>   every identity of this Kratos identity schema
  --verified-before <time>  every identity whose approval was decided before this ISO 8601 time
${ACTOR_OPTION}  --reason <why>         a code or a short phrase, stored on each identity: no personal data
  --dry-run              count the cohort, change nothing
  --no-block-login       record it, but let logins through
  --page-size <n>        identities per page of Kratos's list, 1 to 500 (default 250)
  --page-token <token>   go on from here (printed when a run stopped)
  --required-at <time>   go on with this requirement time (printed when a run stopped)
${JSON_OPTION}${HELP_OPTION}
Progress goes to stderr. Exit status: 0 when done without failures, 1 otherwise, 2 for a wrong argument.
`,
      options: {
        ...common,
        reason: { type: 'string' },
        ids: { type: 'string' },
        'schema-id': { type: 'string' },
        'verified-before': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'no-block-login': { type: 'boolean' },
        'page-size': { type: 'string' },
        'page-token': { type: 'string' },
        'required-at': { type: 'string' },
      },
    },
    async run(commandLine, open) {
      const ids = text(commandLine, 'ids');
      const request = parseInput(
        cohortRequest,
        {
          actor: text(commandLine, 'actor'),
          reason: text(commandLine, 'reason'),
          identity_ids: ids?.split(',').map((id) => id.trim()),
          schema_id: text(commandLine, 'schema-id'),
          verified_before: text(commandLine, 'verified-before'),
          dry_run: commandLine.values['dry-run'] === true,
          block_login: commandLine.values['no-block-login'] !== true,
          page_size: integer(commandLine, 'page-size'),
          page_token: text(commandLine, 'page-token'),
          required_at: text(commandLine, 'required-at'),
        },
        { identity_ids: '--ids' },
      );
      const answer = await reverifyCohort(await open(), request, {
        onProgress: (counts) =>
          progress(
            'reverify-cohort',
            `page ${counts.pages} read; so far listed ${counts.listed}, matched ${counts.matched}, ` +
              `changed ${counts.changed}, failed ${counts.failed}`,
          ),
      });
      if (commandLine.values['json'] === true) printJson(answer);
      else print(describeCohort(answer));
      return answer.done && answer.failed === 0 ? 0 : 1;
    },
  },

  'upgrade-records': {
    summary: 'rewrite the records 0.1.0 wrote, so that ON_DECLINE acts on the declines they hid',
    writes: true,
    spec: {
      name: 'admin upgrade-records',
      usage: `usage: admin upgrade-records --actor <who> [--dry-run] [--page-size <n>] [--page-token <token>] [--json]

Pages through every identity and rewrites each record this version did not write (0.1.0's, partial
records, the community integration's keys) through the same store as every write. A decline that
0.1.0 kept only in history stands again, and ON_DECLINE acts on it now (revokes the sessions,
deactivates) instead of at the identity's next change. Records already of this version are not
touched; running it again is safe. Records that cannot be interpreted are listed, not changed.

Options:
${ACTOR_OPTION}  --dry-run              count what would be rewritten, change nothing
  --page-size <n>        identities per page of Kratos's list, 1 to 500 (default 250)
  --page-token <token>   go on from here (printed when a run stopped)
${JSON_OPTION}${HELP_OPTION}
Progress goes to stderr. Exit status: 0 when done without failures, 1 otherwise, 2 for a wrong argument.
`,
      options: {
        ...common,
        'dry-run': { type: 'boolean' },
        'page-size': { type: 'string' },
        'page-token': { type: 'string' },
      },
    },
    async run(commandLine, open) {
      const who = parseInput(actor, text(commandLine, 'actor'), { '': '--actor' });
      const pageSize = integer(commandLine, 'page-size') ?? 250;
      if (pageSize < 1 || pageSize > 500) throw new UsageError('--page-size: must be between 1 and 500');
      const dryRun = commandLine.values['dry-run'] === true;
      const counts = await upgradeRecords(
        await open(),
        { actor: who, dryRun, pageSize, pageToken: text(commandLine, 'page-token') },
        {
          onProgress: (so) =>
            progress(
              'upgrade-records',
              `page ${so.pages} read; so far listed ${so.listed}, outdated ${so.outdated}, upgraded ${so.upgraded}, ` +
                `unreadable ${so.unreadable}, failed ${so.failed}`,
            ),
        },
      );
      if (commandLine.values['json'] === true) printJson({ dry_run: dryRun, ...counts, next: counts.next ?? null });
      else print(describeUpgrade(counts, dryRun));
      return counts.next === undefined && counts.failed === 0 ? 0 : 1;
    },
  },

  audit: {
    summary: 'the audit of one identity or of all (needs DATABASE_URL; without it the audit is the log)',
    writes: false,
    spec: {
      name: 'admin audit',
      usage: `usage: admin audit [--identity-id <id>] [--limit <n>] [--json]

The audit_log table, newest first. Without DATABASE_URL the audit is the log only: every admin
action wrote one line with "msg":"admin action" (actor, action, identity or cohort size, outcome).

Options:
  --identity-id <id>     only this identity's entries
  --limit <n>            at most this many (default 100, at most 500)
${JSON_OPTION}${HELP_OPTION}`,
      options: { json: { type: 'boolean' }, 'identity-id': { type: 'string' }, limit: { type: 'string' } },
    },
    async run(commandLine, open) {
      const { table } = (await open()).helpDesk.audit;
      if (table === undefined) {
        process.stderr.write(
          'admin audit: without DATABASE_URL the audit is the log only: search the logs for "msg":"admin action"\n',
        );
        return 1;
      }
      const identity = text(commandLine, 'identity-id');
      const entries = await table.list({
        identityId: identity === undefined ? undefined : parseInput(identityId, identity, { '': '--identity-id' }),
        limit: Math.min(integer(commandLine, 'limit') ?? 100, 500),
      });
      if (commandLine.values['json'] === true) printJson({ entries });
      else
        for (const entry of entries)
          print(
            `${entry.at} ${entry.actor} ${entry.action} ${entry.identityId ?? `cohort of ${entry.cohortSize}`} ${entry.outcome}`,
          );
      return 0;
    },
  },

  openapi: {
    summary: "print the admin API's OpenAPI 3.1 document",
    writes: false,
    spec: {
      name: 'admin openapi',
      usage: `usage: admin openapi

Prints the admin API's OpenAPI 3.1 document (the same as GET /admin/openapi.json).

Options:
${HELP_OPTION}`,
      options: {},
    },
    async run() {
      printJson(openApiDocument(ADMIN_ROUTES));
      return 0;
    },
  },
  redact: {
    summary: "redact the identity's Persona data (--dry-run first; --forget also forgets an approval)",
    writes: true,
    spec: {
      name: 'admin redact',
      usage: `usage: admin redact <identity-id> --actor <who> [--dry-run] [--forget] [--whole-account] [--json]

Redacts at Persona, irreversibly, the identity's account whole (when it holds nothing but this
service's inquiries) or each inquiry this service opened for it, and notes it on the record. The
record keeps ids, statuses, times and the standing decision: a redacted decline still blocks. An
identity Kratos no longer has is redacted by what the service opened for it.

Options:
${ACTOR_OPTION}  --dry-run              list what would be redacted, by id; change nothing
  --forget               also forget the verification (the identity reads as never verified);
                         refused while the standing decision is a decline or held for review
  --whole-account        redact the account whole even with inquiries not opened by this service
${JSON_OPTION}${HELP_OPTION}
Exit status: 0 when done, 1 when it failed or was refused (run it again to finish), 2 for a wrong argument.
`,
      options: {
        ...common,
        'dry-run': { type: 'boolean' },
        forget: { type: 'boolean' },
        'whole-account': { type: 'boolean' },
      },
      maxPositionals: 1,
    },
    async run(commandLine, open) {
      const id = identityArgument(commandLine);
      const request = parseInput(redactionRequest, {
        actor: text(commandLine, 'actor'),
        dry_run: commandLine.values['dry-run'] === true,
        forget_decision: commandLine.values['forget'] === true,
        whole_account: commandLine.values['whole-account'] === true,
      });
      const answer = await redactOnRequest(await open(), id, request);
      if (commandLine.values['json'] === true) printJson(answer);
      else print(describeRedaction(answer));
      return 0;
    },
  },

  'redaction-sweep': {
    summary: 'one run of the redaction sweeps: deleted identities (REDACT_DELETED_AFTER) and PERSONA_RETENTION',
    writes: true,
    spec: {
      name: 'admin redaction-sweep',
      usage: `usage: admin redaction-sweep [--dry-run] [--even-if-all-missing] [--json]

One run of the redaction sweeps, for a scheduler (the service runs them itself with
REDACTION_SWEEP_INTERVAL): Persona data of identities missing from Kratos for REDACT_DELETED_AFTER,
then inquiries decided longer ago than PERSONA_RETENTION. It goes on from where the last run
stopped. With DATABASE_URL it runs only while no replica runs them (the same lead as the service's
schedule); without it, it cannot measure the grace period (the first-missing times live in the
service's memory) and redacts no deleted identity.

Options:
  --dry-run              list what would be redacted (by id, in the audit), change nothing
  --even-if-all-missing  go on when none of the first identities checked exists in Kratos
${JSON_OPTION}${HELP_OPTION}
Progress goes to stderr. Exit status: 0 when every sweep finished, 1 when one stopped (the next run
goes on from there) or another replica is running them, 2 for a wrong argument.
`,
      options: {
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'even-if-all-missing': { type: 'boolean' },
      },
    },
    async run(commandLine, open) {
      const dryRun = commandLine.values['dry-run'] === true;
      const report = await runSweepsOnce(await open(), {
        dryRun,
        evenIfAllMissing: commandLine.values['even-if-all-missing'] === true,
        onProgress: (line) => progress('redaction-sweep', line),
      });
      if (report === 'not_leading') {
        process.stderr.write('admin redaction-sweep: another replica is running the redaction sweeps; try later\n');
        return 1;
      }
      if (commandLine.values['json'] === true) printJson({ dry_run: dryRun, ...report });
      else print(describeSweeps(report, dryRun));
      const stopped = [report.deleted, report.retention].some((counts) => counts !== undefined && !counts.complete);
      return stopped ? 1 : 0;
    },
  },
};
