import { STATUS_CODES } from 'node:http';
import type { Reply } from './standInServer.js';

/** Kratos's error format (`errorGeneric` in its OpenAPI document): `{"error": {code, status, reason, message}}`. */
export const kratosError = (code: number, status: string, reason: string): Reply => ({
  status: code,
  body: { error: { code, status, reason, message: status } },
});

/** What an injected Kratos failure answers: Kratos's error format with the status text. */
export const kratosStatus = (code: number): Reply =>
  kratosError(code, STATUS_CODES[code] ?? `Status ${code}`, 'a failure injected into the stand-in');
