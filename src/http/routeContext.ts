import type { Config } from '../config.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { RecordStore } from '../verification/recordStore.js';
import type { TransitionRules } from '../verification/transition.js';

/** What the routes share: configuration, the clients behind the record store, and the clock. */
export interface RouteContext {
  config: Readonly<Config>;
  persona: PersonaApi;
  store: RecordStore;
  rules: TransitionRules;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
}
