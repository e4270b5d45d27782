/** Persona's environments: each has its own API keys, and a key names its environment (reference/persona-api.md, "Access"). */
export type PersonaEnvironment = 'sandbox' | 'production';

/** The environment an API key reaches, or undefined for a value that is not one of Persona's keys. */
export const personaEnvironment = (apiKey: string): PersonaEnvironment | undefined =>
  /^persona_(sandbox|production)_\S+$/.exec(apiKey)?.[1] as PersonaEnvironment | undefined;
