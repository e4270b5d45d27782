/**
 * An identity's credentials in the Kratos stand-in, and the admin operations on them that Kratos
 * performs (ory/kratos identity/handler.go and persistence/sql/identity/persister_identity.go):
 * lookup by credentials identifier and deletion by type. Admin reads list them without their
 * secrets; the self-service `ctx` and `whoami` never contain them.
 */

export interface StandInCredential {
  type: string;
  identifiers: string[];
  /** For `webauthn`: the keys, each passwordless (a first factor) or not (a second factor). */
  config: { credentials?: { id: string; is_passwordless: boolean }[] };
  version: number;
  created_at: string;
  updated_at: string;
}

export type Credentials = Record<string, StandInCredential>;

/** Types whose identifiers Kratos matches after normalising them; social sign-in ones match exactly. */
const NORMALISED_TYPES = new Set(['password', 'code', 'webauthn']);
const EXACT_TYPES = new Set(['oidc', 'saml']);
const FIRST_FACTORS = new Set(['password', 'oidc', 'saml']);

/**
 * Kratos's graceful normalisation of an identifier (x/normalize.go): trimmed, NFKC, lower case. It
 * also formats valid phone numbers as E.164, which the stand-in leaves out: give phone numbers in
 * that form.
 */
export const normaliseIdentifier = (identifier: string) => identifier.trim().normalize('NFKC').toLowerCase();

/** `GET /admin/identities?credentials_identifier=`: exact match, normalised for password, code and WebAuthn. */
export function holdsIdentifier(credentials: Credentials, identifier: string): boolean {
  return Object.values(credentials).some(
    (credential) =>
      (NORMALISED_TYPES.has(credential.type) && credential.identifiers.includes(normaliseIdentifier(identifier))) ||
      (EXACT_TYPES.has(credential.type) && credential.identifiers.includes(identifier)),
  );
}

export function credential(type: string, identifiers: string[] = [], config: StandInCredential['config'] = {}) {
  const now = new Date().toISOString();
  return {
    type,
    identifiers: NORMALISED_TYPES.has(type) ? identifiers.map(normaliseIdentifier) : identifiers,
    config,
    version: 0,
    created_at: now,
    updated_at: now,
  } satisfies StandInCredential;
}

/** What an admin read shows of credentials: type and identifiers, never the secrets in `config`. */
export const withoutSecrets = (credentials: Credentials): Record<string, Omit<StandInCredential, 'config'>> =>
  Object.fromEntries(Object.entries(credentials).map(([type, { config: _secret, ...shown }]) => [type, shown]));

export type DeletionResult = { ok: true; credentials: Credentials } | { ok: false; status: 400 | 404; reason: string };

/**
 * `DELETE /admin/identities/{id}/credentials/{type}` as Kratos does it: 404 when the identity has
 * no credentials of the type; TOTP and lookup secrets go; WebAuthn keeps its passwordless keys;
 * password and social sign-in only while another first factor remains (and social sign-in needs
 * the `identifier` of the link to remove); every other type (passkey, code) answers 400.
 */
export function deleteCredentials(credentials: Credentials, type: string, identifier: string | null): DeletionResult {
  const held = credentials[type];
  if (held === undefined) {
    return { ok: false, status: 404, reason: `You tried to remove a ${type} but this user have no ${type} set up.` };
  }
  const without = (name: string): Credentials =>
    Object.fromEntries(Object.entries(credentials).filter(([key]) => key !== name));
  switch (type) {
    case 'totp':
    case 'lookup_secret':
      return { ok: true, credentials: without(type) };
    case 'webauthn': {
      const passwordless = (held.config.credentials ?? []).filter((key) => key.is_passwordless);
      return {
        ok: true,
        credentials:
          passwordless.length === 0
            ? without(type)
            : { ...credentials, webauthn: { ...held, config: { credentials: passwordless } } },
      };
    }
    case 'password':
    case 'oidc':
    case 'saml': {
      const firstFactors = Object.values(credentials).filter((entry) => FIRST_FACTORS.has(entry.type)).length;
      if (firstFactors < 2)
        return { ok: false, status: 400, reason: 'You cannot remove the last first factor credential.' };
      if (type === 'password') return { ok: true, credentials: without(type) };
      if (identifier === null || !held.identifiers.includes(identifier)) {
        return { ok: false, status: 400, reason: 'You must provide the identifier of the link to remove.' };
      }
      const identifiers = held.identifiers.filter((value) => value !== identifier);
      return {
        ok: true,
        credentials: identifiers.length === 0 ? without(type) : { ...credentials, [type]: { ...held, identifiers } },
      };
    }
    default:
      return { ok: false, status: 400, reason: `Credentials type ${type} cannot be deleted.` };
  }
}
