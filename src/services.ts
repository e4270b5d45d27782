import type { Config } from './config.js';
import type { Coordination } from './coordination/coordination.js';
import type { KratosApi } from './kratos/kratosClient.js';
import { createAccountReferences, type AccountReferences } from './persona/accountReferences.js';
import type { PersonaApi } from './persona/personaClient.js';
import type { NextStepRules } from './verification/nextStep.js';
import { createRecordStore, type RecordStore } from './verification/recordStore.js';
import type { DecisionStatuses, Purpose } from './verification/record.js';
import type { TransitionRules } from './verification/transition.js';

/**
 * What the routes and the reconciliation share: one record store over one coordination, and one
 * memory of Persona accounts' reference ids.
 */
export interface Services {
  coordination: Coordination;
  store: RecordStore;
  accountReferences: AccountReferences;
  rules: TransitionRules;
  nextStepRules: NextStepRules;
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
  now: () => number = Date.now,
): Services {
  const statuses = decisionStatuses(config);
  return {
    coordination,
    accountReferences: createAccountReferences(persona),
    store: createRecordStore({
      kratos,
      coordination,
      publicMirror: config.record.publicMirror,
      statuses,
      onDecline: config.record.onDecline,
      now,
    }),
    rules: {
      statuses,
      purposeTemplates: {
        ...(config.stepUp.templateId !== undefined && { step_up: new Set([config.stepUp.templateId]) }),
        ...(config.recovery.templateId !== undefined && { recovery: new Set([config.recovery.templateId]) }),
      },
      attributeMatch: config.record.attributeMatch,
    },
    nextStepRules: {
      allowRetries: config.start.allowRetries,
      reverifyAfterMs: config.login.reverifyAfterMs,
    },
  };
}
