/** Kratos identity ids are UUIDs; the nil UUID is what a pre-persist registration hook sees. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);

/** A usable identity id: a UUID, and not the nil UUID (reference/persona-api.md: never the nil UUID). */
export const isIdentityId = (value: unknown): value is string => isUuid(value) && value !== NIL_UUID;
