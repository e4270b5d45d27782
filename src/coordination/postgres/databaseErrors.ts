import pg from 'pg';
import { CoordinationError } from '../coordination.js';

/** SQLSTATE lock_not_available: lock_timeout ran out (Postgres "Appendix A. Error Codes"). */
const LOCK_NOT_AVAILABLE = '55P03';
/** undefined_table and invalid_schema_name: the schema is not migrated (yet). */
const SCHEMA_MISSING = new Set(['42P01', '3F000']);
/** read_only_sql_transaction: a write on a server in recovery (a standby, a read replica). */
const READ_ONLY = '25006';

/** What an operator should check, by SQLSTATE or Node error code; the error text itself is never logged. */
const HINTS: Record<string, string> = {
  '28P01': 'password authentication failed: check the user and password in DATABASE_URL',
  '28000': 'the server refused this user or host (pg_hba.conf): check DATABASE_URL',
  '3D000': 'the database named in DATABASE_URL does not exist',
  '42501': 'permission denied: the user needs CREATE on the database, or a DBA creates DATABASE_SCHEMA for it',
  [READ_ONLY]: 'the server takes no writes (a standby or read replica): point DATABASE_URL at the primary',
  '53300': 'too many connections: lower DATABASE_POOL_SIZE or raise max_connections',
  '57P03': 'the server is starting up or shutting down',
  ECONNREFUSED: "nothing listens at DATABASE_URL's host and port",
  ENOTFOUND: "DATABASE_URL's host name does not resolve",
  ETIMEDOUT: "DATABASE_URL's host does not answer",
  ECONNRESET: 'the connection was reset',
};

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** Any failure of the database as the coordination reports it. */
export function toCoordinationError(error: unknown): CoordinationError {
  if (error instanceof CoordinationError) return error;
  const code = codeOf(error);
  if (code === LOCK_NOT_AVAILABLE) return new CoordinationError('lock_timeout', code);
  if (code === READ_ONLY) return new CoordinationError('read_only', code);
  if (code !== undefined && SCHEMA_MISSING.has(code)) return new CoordinationError('schema_pending', code);
  return new CoordinationError('unavailable', code);
}

/**
 * Log fields for a database failure: its code and a hint. The server's own messages are left out
 * (they may quote values); the driver's (connection closed, timeouts) are ours to show.
 */
export function databaseErrorFields(error: unknown): Record<string, unknown> {
  const code = codeOf(error);
  const hint = code === undefined ? undefined : HINTS[code];
  return {
    error: error instanceof pg.DatabaseError || !(error instanceof Error) ? 'database error' : error.message,
    ...(code !== undefined && { db_code: code }),
    ...(hint !== undefined && { hint }),
  };
}
