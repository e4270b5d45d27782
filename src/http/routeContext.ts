import type { Config } from '../config.js';
import type { KratosApi } from '../kratos/kratosClient.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { NextStepRules } from '../verification/nextStep.js';
import type { RecordStore } from '../verification/recordStore.js';
import type { TransitionRules } from '../verification/transition.js';
import type { ReturnToPolicy } from './returnTo.js';
import type { StartLinks } from './startLinks.js';

/** What the routes share: configuration, the clients behind the record store, and the clock. */
export interface RouteContext {
  config: Readonly<Config>;
  persona: PersonaApi;
  kratos: KratosApi;
  store: RecordStore;
  rules: TransitionRules;
  nextStepRules: NextStepRules;
  links: StartLinks;
  returnTo: ReturnToPolicy;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
}
