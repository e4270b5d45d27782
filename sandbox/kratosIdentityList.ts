import { kratosError } from './kratosError.js';
import type { RecordedRequest, Reply } from './standInServer.js';

/**
 * `GET /admin/identities` as Kratos v26 answers it: keyset pagination ordered by id, `page_size`
 * from 1 to 500 (default 250), an opaque `page_token` naming where the next page starts, and a
 * `Link` header with the first page and, unless this is the last, the next one (ory/x
 * pagination/keysetpagination). `ids` selects identities by id and is not paginated.
 */
const DEFAULT_PAGE_SIZE = 250;
const MAX_PAGE_SIZE = 500;

/** Kratos's tokens are opaque to clients; this one carries the last id of the previous page. */
const encodeToken = (lastId: string) => Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
const FIRST_PAGE_TOKEN = encodeToken('');

function decodeToken(token: string): string | undefined {
  try {
    const { after } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof after === 'string' ? after : undefined;
  } catch {
    return undefined;
  }
}

const link = (request: RecordedRequest, relation: string, token: string, size: number) => {
  const query = new URLSearchParams(request.query);
  query.set('page_token', token);
  query.set('page_size', String(size));
  return `<${request.path}?${query.toString()}>; rel="${relation}"`;
};

export function listIdentities(request: RecordedRequest, identities: Iterable<{ id: string }>): Reply {
  const sizeText = request.query.get('page_size');
  const size = sizeText === null ? DEFAULT_PAGE_SIZE : Number(sizeText);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    return kratosError(400, 'Bad Request', `page_size must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  const all = [...identities].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Parsed as UUIDs, in either case, as the path's id is.
  const ids = request.query.getAll('ids').map((id) => id.toLowerCase());
  if (ids.length > 0) {
    return { status: 200, body: all.filter((identity) => ids.includes(identity.id)) };
  }
  const token = request.query.get('page_token');
  const after = token === null ? '' : decodeToken(token);
  if (after === undefined) return kratosError(400, 'Bad Request', 'The page token is invalid');
  const rest = all.filter((identity) => identity.id > after);
  const page = rest.slice(0, size);
  const links = [link(request, 'first', FIRST_PAGE_TOKEN, size)];
  const last = page.at(-1);
  if (rest.length > size && last !== undefined) links.push(link(request, 'next', encodeToken(last.id), size));
  return { status: 200, body: page, headers: { Link: links.join(',') } };
}
