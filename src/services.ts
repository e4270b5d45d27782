import type { Config } from './config.js';
import type { Coordination } from './coordination/coordination.js';
import { StartLinks } from './http/startLinks.js';
import type { KratosApi } from './kratos/kratosClient.js';
import { loadMessageCatalogue, type MessageCatalogue } from './messages/catalogue.js';
import { createLogger, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { createNotifications, type Notifications } from './notifications/notifications.js';
import { createAccountReferences, type AccountReferences } from './persona/accountReferences.js';
import type { PersonaApi } from './persona/personaClient.js';
import { Rechecks } from './reconcile/rechecks.js';
import type { NextStepRules } from './verification/nextStep.js';
import { createRecordStore, type RecordStore } from './verification/recordStore.js';
import type { DecisionStatuses, Purpose } from './verification/record.js';
import type { TransitionRules } from './verification/transition.js';

/**
 * What the routes and the reconciliation share: one record store over one coordination, the
 * re-checks of records a lost lock may have left stale, and one memory of Persona accounts'
 * reference ids.
 */
export interface Services {
  coordination: Coordination;
  store: RecordStore;
  /** Stopped at shutdown. */
  rechecks: Rechecks;
  accountReferences: AccountReferences;
  rules: TransitionRules;
  nextStepRules: NextStepRules;
  /** The events of every change the store writes, and the relay that sends them. */
  notifications: Notifications;
}

export interface ServiceOptions {
  now?: () => number;
  logger?: Logger;
  /** Counts notification attempts. */
  metrics?: Metrics;
  /** The texts of emails; the shipped catalogue when absent. */
  messages?: MessageCatalogue;
  /** Tests shorten the waits between a notification's attempts. */
  notificationScheduleMs?: readonly number[];
}

export function decisionStatuses(config: Readonly<Config>): DecisionStatuses {
  return {
    approved: config.record.approvedStatuses,
    declined: config.record.declinedStatuses,
    heldForReview: config.record.attributeMatch?.onMismatch === 'review',
  };
}

/**
 * The template each purpose's inquiries are created with: onboarding and re-verification the first
 * PERSONA_TEMPLATE_ID; step-up and recovery their own, when configured.
 */
export function templateFor(config: Readonly<Config>, purpose: Purpose): string | undefined {
  switch (purpose) {
    case 'onboarding':
    case 'reverification':
      return config.persona.templateIds[0];
    case 'step_up':
      return config.stepUp.templateId;
    case 'recovery':
      return config.recovery.templateId;
  }
}

/** Every template whose inquiries' webhooks are accepted, and reconciled. */
export function acceptedTemplateIds(config: Readonly<Config>): string[] {
  const extra = [config.stepUp.templateId, config.recovery.templateId];
  return [...config.persona.templateIds, ...extra.filter((id): id is string => id !== undefined)];
}

export function createServices(
  config: Readonly<Config>,
  kratos: KratosApi,
  persona: PersonaApi,
  coordination: Coordination,
  options: ServiceOptions = {},
): Services {
  const now = options.now ?? Date.now;
  const statuses = decisionStatuses(config);
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const notifications = createNotifications(config, {
    coordination,
    statuses,
    logger,
    now,
    ...(options.notificationScheduleMs !== undefined && { scheduleMs: options.notificationScheduleMs }),
    ...(options.metrics !== undefined && { count: options.metrics.countNotification }),
    email: {
      kratos,
      messages: options.messages ?? loadMessageCatalogue(),
      // An emailed link works at least until the next email may be sent (EMAIL_MIN_INTERVAL).
      links: new StartLinks({
        ...config.start,
        linkTtlMs: Math.max(config.start.linkTtlMs, config.notifications.email?.minIntervalMs ?? 0),
      }),
    },
  });
  const accountReferences = createAccountReferences(persona);
  const rules: TransitionRules = {
    statuses,
    purposeTemplates: {
      ...(config.stepUp.templateId !== undefined && { step_up: new Set([config.stepUp.templateId]) }),
      ...(config.recovery.templateId !== undefined && { recovery: new Set([config.recovery.templateId]) }),
    },
    attributeMatch: config.record.attributeMatch,
  };
  const store = createRecordStore({
    kratos,
    coordination,
    publicMirror: config.record.publicMirror,
    statuses,
    onDecline: config.record.onDecline,
    now,
    announce: (change, unit) => notifications.announce(change, unit),
    writeSettleMs: config.kratos.timeoutMs,
    onWriteAfterLostLock: (identityId, settleMs) => rechecks.schedule(identityId, settleMs),
  });
  const rechecks = new Rechecks({
    persona,
    accountReferences,
    store,
    rules,
    templateIds: acceptedTemplateIds(config),
    logger,
    now,
  });
  return {
    coordination,
    notifications,
    accountReferences,
    store,
    rechecks,
    rules,
    nextStepRules: {
      allowRetries: config.start.allowRetries,
      reverifyAfterMs: config.login.reverifyAfterMs,
    },
  };
}
