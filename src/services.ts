import type { Config } from './config.js';
import type { KratosApi } from './kratos/kratosClient.js';
import { createAccountReferences, type AccountReferences } from './persona/accountReferences.js';
import type { PersonaApi } from './persona/personaClient.js';
import type { NextStepRules } from './verification/nextStep.js';
import { IdentityLocks } from './verification/identityLocks.js';
import { createRecordStore, type RecordStore } from './verification/recordStore.js';
import type { DecisionStatuses } from './verification/record.js';
import type { TransitionRules } from './verification/transition.js';

/**
 * What the routes and the reconciliation share: one record store, so one set of identity locks, and
 * one memory of Persona accounts' reference ids.
 */
export interface Services {
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

export function createServices(
  config: Readonly<Config>,
  kratos: KratosApi,
  persona: PersonaApi,
  now: () => number = Date.now,
): Services {
  const statuses = decisionStatuses(config);
  return {
    accountReferences: createAccountReferences(persona),
    store: createRecordStore({
      kratos,
      locks: new IdentityLocks(),
      publicMirror: config.record.publicMirror,
      statuses,
      onDecline: config.record.onDecline,
      now,
    }),
    rules: { statuses, purposeTemplates: {}, attributeMatch: config.record.attributeMatch },
    nextStepRules: {
      allowRetries: config.start.allowRetries,
      reverifyAfterMs: config.login.reverifyAfterMs,
    },
  };
}
