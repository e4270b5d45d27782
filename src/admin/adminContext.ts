import type { Config } from '../config.js';
import type { StartLinks } from '../http/startLinks.js';
import type { ReturnToPolicy } from '../http/returnTo.js';
import type { KratosApi } from '../kratos/kratosClient.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { NextStepRules } from '../verification/nextStep.js';
import type { RecordStore } from '../verification/recordStore.js';
import type { Coordination, SharedDatabase } from '../coordination/coordination.js';
import type { PersonaApi } from '../persona/personaClient.js';
import { auditedRedactions, type RedactionAudit } from '../privacy/redactionAudit.js';
import { createAuditLog, type AuditLog } from './audit/auditLog.js';
import { createPostgresAuditTable } from './audit/postgresAuditTable.js';
import { ClientAttempts } from './shortCodes/clientAttempts.js';
import { createMemoryShortCodeStore } from './shortCodes/memoryShortCodeStore.js';
import { createPostgresShortCodeStore } from './shortCodes/postgresShortCodeStore.js';
import { secretDigester, type CodeParts } from './shortCodes/shortCode.js';
import type { ShortCodeStore } from './shortCodes/shortCodeStore.js';

/** What the help desk keeps besides the records: short codes and the audit. */
export interface HelpDesk {
  codes: ShortCodeStore;
  /** Whether `codes` is shared by every process (Postgres), or lives in this one. */
  codesShared: boolean;
  digestOf: (parts: CodeParts) => Buffer;
  /** Failed code entries per client address, in this process. */
  codeAttempts: ClientAttempts;
  audit: AuditLog;
  /** The audit of redactions: `audit` as action `persona.redact`, and `persona_redactions_total`. */
  redactions: RedactionAudit;
}

/** What the admin operations need: the same pieces the routes use, and the help desk's own. */
export interface AdminContext {
  config: Readonly<Config>;
  kratos: KratosApi;
  persona: PersonaApi;
  coordination: Coordination;
  store: RecordStore;
  nextStepRules: NextStepRules;
  links: StartLinks;
  returnTo: ReturnToPolicy;
  helpDesk: HelpDesk;
  logger: Logger;
  now: () => number;
}

export interface HelpDeskOptions {
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  /** The coordination's shared database (DATABASE_URL); undefined in single-instance mode. */
  shared: SharedDatabase | undefined;
}

/**
 * Chosen once at start, as the coordination is: with DATABASE_URL the short codes and the audit are
 * tables every replica shares, else the codes live in this process and the audit is the log only.
 */
export function createHelpDesk(options: HelpDeskOptions): HelpDesk {
  const { shared } = options;
  const audit = createAudit(options);
  return {
    codes: shared === undefined ? createMemoryShortCodeStore() : createPostgresShortCodeStore(shared),
    codesShared: shared !== undefined,
    digestOf: secretDigester(options.config.start.linkSigningKeys[0] as Buffer),
    codeAttempts: new ClientAttempts(),
    audit,
    redactions: auditedRedactions(audit, options.metrics.countRedaction),
  };
}

/** The audit: log lines and a counter, and with DATABASE_URL the `audit_log` table every replica shares. */
export const createAudit = (options: Omit<HelpDeskOptions, 'config'>): AuditLog =>
  createAuditLog({
    logger: options.logger,
    metrics: options.metrics,
    table: options.shared === undefined ? undefined : createPostgresAuditTable(options.shared),
    now: options.now,
  });
