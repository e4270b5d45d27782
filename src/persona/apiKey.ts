/** The Persona environment an API key reaches: the key decides it (reference/persona-api.md, "Access"). */
export type PersonaEnvironment = 'sandbox' | 'production' | 'unknown';

export const personaEnvironment = (apiKey: string): PersonaEnvironment =>
  apiKey.startsWith('persona_sandbox_')
    ? 'sandbox'
    : apiKey.startsWith('persona_production_')
      ? 'production'
      : 'unknown';
