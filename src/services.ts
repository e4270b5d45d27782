import type { Config } from './config.js';
import type { KratosApi } from './kratos/kratosClient.js';
import type { NextStepRules } from './verification/nextStep.js';
import { IdentityLocks } from './verification/identityLocks.js';
import { createRecordStore, type RecordStore } from './verification/recordStore.js';
import type { TransitionRules } from './verification/transition.js';

/** What the routes and the reconciliation share; one record store, so one set of identity locks. */
export interface Services {
  store: RecordStore;
  rules: TransitionRules;
  nextStepRules: NextStepRules;
}

export function createServices(config: Readonly<Config>, kratos: KratosApi): Services {
  return {
    store: createRecordStore({
      kratos,
      locks: new IdentityLocks(),
      publicMirror: config.record.publicMirror,
      approvedStatuses: config.record.approvedStatuses,
    }),
    rules: { decidedStatuses: new Set([...config.record.approvedStatuses, ...config.record.declinedStatuses]) },
    nextStepRules: {
      allowRetries: config.start.allowRetries,
      reverifyAfterMs: config.login.reverifyAfterMs,
      approvedStatuses: config.record.approvedStatuses,
      declinedStatuses: config.record.declinedStatuses,
    },
  };
}
