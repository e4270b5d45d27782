/**
 * What a secret must not be: a value anyone can read in this project's own files, or one an
 * attacker can guess. Pure checks over strings; configuration names the variable, never the value.
 */

/** At least this long: `openssl rand -hex 32` gives 64 characters. */
export const SECRET_MIN_LENGTH = 16;
/** Random 16-character hex strings have 6 or more different characters all but 3 times in 100,000. */
const SECRET_MIN_DISTINCT_CHARACTERS = 6;

/**
 * Values this project's files publish or once published (the compose example, the sandbox, the
 * production check script, the documentation) and placeholders such as ory-actions.yaml's
 * `CHANGE-ME-ORY_WEBHOOK_SECRET`: public, so never secret. test/artifacts/publishedSecrets.test.ts
 * holds the shipped files to this list.
 */
const SHIPPED_EXAMPLE_VALUES = new Set([
  'compose-ory-webhook-secret-0123456789',
  'wbhsec_compose_0123456789abcdef',
  'compose-only-cookie-secret-0123456789',
  '32-characters-compose-cipher-key',
  'compose-only-ui-cookie-secret',
  'compose-only-ui-csrf-secret',
  'sandbox-ory-webhook-secret-0123456789',
  'wbhsec_sandbox_0123456789abcdef',
  'production-check-secret-0123456789',
  'wbhsec_production_check_0123456789',
]);

/**
 * Prefixes every secret of a kind starts with, such as Persona's `wbhsec_`: known to everyone, so
 * the variety and placeholder checks look at what follows (`wbhsec_xxxxxxxx` is a placeholder).
 */
const PUBLIC_PREFIX = /^wbhsec_/;

/**
 * How shipped examples mark a value to fill in: `CHANGE-ME`, `itmpl_ReplaceWithYourTemplate`, `<...>`,
 * an unfilled `${VARIABLE}`, `xxxxxxxx`. Not inside a word, so a message reading "exchange meeting"
 * is no placeholder.
 */
const PLACEHOLDER = /(?<![a-z])(?:(?:change|replace)[-_ ]?me(?![a-z])|replace[-_ ]?with)|^<.*>$|^\$\{.*\}$|^x{8,}$/i;
/** An example with its middle left out, `persona_production_...`: plain prose elsewhere, never a credential. */
const ELIDED = /\.\.\./;

/** Whether any setting's value is a placeholder from an example rather than the operator's own value. */
export const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value.replace(PUBLIC_PREFIX, ''));

/** A secret or API key still to be filled in: a placeholder, or an example with its middle left out. */
export const isPlaceholderCredential = (value: string): boolean => isPlaceholder(value) || ELIDED.test(value);

export type SecretProblem = 'too_short' | 'shipped_example' | 'too_little_variety';

/** A run of one short unit: `abcabcabcabc`. */
const isRepetition = (value: string) => /^(.{1,8}?)\1+$/s.test(value);

export function secretProblem(value: string): SecretProblem | undefined {
  if (value.length < SECRET_MIN_LENGTH) return 'too_short';
  const secretPart = value.replace(PUBLIC_PREFIX, '');
  if (SHIPPED_EXAMPLE_VALUES.has(value) || isPlaceholderCredential(value)) return 'shipped_example';
  if (new Set(secretPart).size < SECRET_MIN_DISTINCT_CHARACTERS || isRepetition(secretPart))
    return 'too_little_variety';
  return undefined;
}

/**
 * Pairs of variables that share a value: each secret guards something else (Kratos's hooks,
 * Persona's webhooks, links shown to users, metrics), so one leaking must not open another.
 * Values that differ in letter case only count as one: the one guesses the other. Reports each
 * pair once, on the later variable.
 */
export function sharedSecrets(
  secretsByVariable: readonly (readonly [name: string, values: readonly string[] | undefined])[],
): { variable: string; sharesWith: string }[] {
  const found: { variable: string; sharesWith: string }[] = [];
  const folded = secretsByVariable.map(
    ([name, values]) => [name, values?.map((value) => value.toLowerCase())] as const,
  );
  folded.forEach(([name, values], index) => {
    for (const [earlierName, earlierValues] of folded.slice(0, index)) {
      if (values?.some((value) => earlierValues?.includes(value)))
        found.push({ variable: name, sharesWith: earlierName });
    }
  });
  return found;
}
