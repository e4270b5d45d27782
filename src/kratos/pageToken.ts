/**
 * Kratos lists identities by keyset pagination: each page's `Link` header carries the links to the
 * first page and, unless it is the last, to the next one, each with its `page_token` and
 * `page_size` (ory/x pagination/keysetpagination, header.go). The token is opaque: it is only ever
 * handed back. Kratos has sent the links as two `Link` headers and as one joined with commas, and
 * newer versions percent-encode the whole URL; all read the same here.
 */
const LINK_VALUE = /<([^>]*)>\s*((?:;\s*[^;,]*)*)/g;
const NEXT_RELATION = /;\s*rel\s*=\s*"?([^";,]*)"?/i;

/** The `page_token` of the `rel="next"` link, or undefined on the last page. */
export function nextPageToken(linkHeader: string | undefined): string | undefined {
  if (linkHeader === undefined) return undefined;
  for (const [, target = '', parameters = ''] of linkHeader.matchAll(LINK_VALUE)) {
    const relations = (NEXT_RELATION.exec(parameters)?.[1] ?? '').toLowerCase().split(/\s+/);
    if (!relations.includes('next')) continue;
    const decoded = !target.includes('?') && /%3f/i.test(target) ? safeDecode(target) : target;
    let token: string | null;
    try {
      token = new URL(decoded, 'http://kratos.invalid').searchParams.get('page_token');
    } catch {
      return undefined;
    }
    return token === null || token === '' ? undefined : token;
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
