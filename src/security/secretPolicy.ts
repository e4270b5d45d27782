/**
 * What a secret must not be: a value anyone can read in this project's own files, or one an
 * attacker can guess. Pure checks over strings; configuration names the variable, never the value.
 */

/** At least this long: `openssl rand -hex 32` gives 64 characters. */
export const SECRET_MIN_LENGTH = 16;
/** Random 16-character hex strings have 6 or more different characters all but 3 times in 100,000. */
const SECRET_MIN_DISTINCT_CHARACTERS = 6;

/**
 * Values shipped in this project's files (the compose example, the sandbox, the documentation) and
 * placeholders such as ory-actions.yaml's `CHANGE-ME-ORY_WEBHOOK_SECRET`: public, so never secret.
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
]);
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|^<.*>$|^\$\{.*\}$|^x{8,}$|\.\.\./i;

export type SecretProblem = 'too_short' | 'shipped_example' | 'too_little_variety';

/** A run of one short unit: `abcabcabcabc`. */
const isRepetition = (value: string) => /^(.{1,8}?)\1+$/s.test(value);

export function secretProblem(value: string): SecretProblem | undefined {
  if (value.length < SECRET_MIN_LENGTH) return 'too_short';
  if (SHIPPED_EXAMPLE_VALUES.has(value) || PLACEHOLDER.test(value)) return 'shipped_example';
  if (new Set(value).size < SECRET_MIN_DISTINCT_CHARACTERS || isRepetition(value)) return 'too_little_variety';
  return undefined;
}

/**
 * Pairs of variables that share a value: each secret guards something else (Kratos's hooks,
 * Persona's webhooks, links shown to users, metrics), so one leaking must not open another.
 * Reports each pair once, on the later variable.
 */
export function sharedSecrets(
  secretsByVariable: readonly (readonly [name: string, values: readonly string[] | undefined])[],
): { variable: string; sharesWith: string }[] {
  const found: { variable: string; sharesWith: string }[] = [];
  secretsByVariable.forEach(([name, values], index) => {
    for (const [earlierName, earlierValues] of secretsByVariable.slice(0, index)) {
      if (values?.some((value) => earlierValues?.includes(value)))
        found.push({ variable: name, sharesWith: earlierName });
    }
  });
  return found;
}
