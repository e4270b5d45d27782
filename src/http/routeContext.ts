import type { Config } from '../config.js';
import type { KratosApi } from '../kratos/kratosClient.js';
import type { MessageCatalogue } from '../messages/catalogue.js';
import type { Metrics } from '../metrics.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { Services } from '../services.js';
import type { PersonaEntries } from './personaEntries.js';
import type { ReturnToPolicy } from './returnTo.js';
import type { StartLinks } from './startLinks.js';

/** What the routes share: configuration, the clients, the record store, and the clock. */
export interface RouteContext extends Services {
  config: Readonly<Config>;
  persona: PersonaApi;
  kratos: KratosApi;
  links: StartLinks;
  /** How start and status send users into Persona: reused links, rate-limited calls. */
  personaEntries: PersonaEntries;
  returnTo: ReturnToPolicy;
  metrics: Metrics;
  /** The texts users see, in every language there is a file for. */
  messages: MessageCatalogue;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
}
