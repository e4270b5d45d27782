import { z } from 'zod';

/** Kratos identity ids are UUIDs; the nil UUID is what a pre-persist registration hook sees. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Either case: Kratos reads ids with x.ParseUUID (gofrs uuid.FromString), which takes both. */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);

/** A usable identity id: a UUID, and not the nil UUID (reference/persona-api.md: never the nil UUID). */
export const isIdentityId = (value: unknown): value is string => isUuid(value) && value !== NIL_UUID;

/**
 * A UUID read from a request, in the one form the service uses: lower case, as Kratos writes ids.
 * Kratos takes an id in either case as the same identity, so the id pasted in upper case is lowered
 * here, at the edge; the identity's lock, its links and codes, and Persona's reference id then
 * carry one string. A string operation only: the login gate does no more work for it.
 */
export const uuidField = (message: string) => z.string().regex(UUID_PATTERN, message).toLowerCase();
