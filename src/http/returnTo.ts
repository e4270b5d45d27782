/**
 * Where `/persona/start` may send the user back to: only URLs under an allowlisted origin or URL
 * prefix, compared after the WHATWG URL parser has normalised them, so userinfo (`a.com@evil`),
 * protocol-relative (`//evil`), backslash and `javascript:` tricks cannot pass.
 */

interface AllowedPrefix {
  origin: string;
  /** A path the URL must equal or sit below; `/` allows the whole origin. */
  path: string;
}

const parse = (text: string): URL | undefined => {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (url.username !== '' || url.password !== '') return undefined;
    return url;
  } catch {
    return undefined;
  }
};

export type ReturnToResult = { ok: true; url: string | undefined } | { ok: false };

export class ReturnToPolicy {
  private readonly allowed: AllowedPrefix[];

  constructor(
    allowlist: readonly string[],
    private readonly fallback: string | undefined,
  ) {
    this.allowed = [...allowlist, ...(fallback === undefined ? [] : [fallback])]
      .map(parse)
      .filter((url): url is URL => url !== undefined)
      .map((url) => ({ origin: url.origin, path: url.pathname }));
  }

  /** For CORS: pages on an allowlisted origin may call /persona/status with credentials. */
  isAllowedOrigin(origin: string): boolean {
    return this.allowed.some((prefix) => prefix.origin === origin);
  }

  isAllowed(candidate: string): boolean {
    return this.check(candidate) !== undefined;
  }

  /** The normalised URL to send the user to, the default when none was asked for, or a refusal. */
  resolve(requested: unknown): ReturnToResult {
    if (requested === undefined || requested === '') return { ok: true, url: this.fallback };
    if (typeof requested !== 'string') return { ok: false };
    const url = this.check(requested);
    return url === undefined ? { ok: false } : { ok: true, url };
  }

  /** Where a page may link back to: the requested URL when allowed, else the default (never a refused one). */
  linkBack(requested: unknown): string | undefined {
    const result = this.resolve(requested);
    return result.ok ? result.url : this.fallback;
  }

  private check(candidate: string): string | undefined {
    const url = parse(candidate);
    if (url === undefined) return undefined;
    const allowed = this.allowed.some(
      (prefix) =>
        prefix.origin === url.origin &&
        (prefix.path === '/' ||
          url.pathname === prefix.path ||
          url.pathname.startsWith(prefix.path.endsWith('/') ? prefix.path : `${prefix.path}/`)),
    );
    return allowed ? url.href : undefined;
  }
}
