import type { Request } from 'express';
import type { PageLink } from './pages.js';
import type { RouteContext } from './routeContext.js';

/** Which ways on a page offers besides going back to the app and contacting support. */
export interface Offers {
  /** Sign in (LOGIN_URL), coming back to this same step afterwards. */
  signIn?: boolean;
  /** Load the same address again. */
  retry?: boolean;
  /** Label the way back "Continue" rather than "Back to the application". */
  continue?: boolean;
  /** Contact support (SUPPORT_URL): where the page ends in a refusal or an error. */
  support?: boolean;
}

type Context = Pick<RouteContext, 'config' | 'links' | 'returnTo'>;

/** `base` with one query parameter set, keeping any it has. */
const withParameter = (base: string, name: string, value: string) => {
  const url = new URL(base);
  url.searchParams.set(name, value);
  return url.href;
};

/**
 * The same address again, relative to where the browser is, so it holds behind a proxy that
 * mounts the service under a path of its own.
 */
const sameAddress = (req: Request) => {
  const query = req.originalUrl.indexOf('?');
  return query === -1 ? '?' : req.originalUrl.slice(query);
};

/** The links that take a person on from a page, so that none is a dead end. */
export function wayForward(req: Request, context: Context, offers: Offers): PageLink[] {
  const { loginUrl, supportUrl } = context.config.start;
  const returnTo = context.returnTo.linkBack(req.query['return_to']);
  const links: PageLink[] = [];
  if (offers.signIn && loginUrl !== undefined) {
    // Kratos sends the user back to `return_to` after signing in; it must be absolute.
    const here = context.links.available ? context.links.forSession(returnTo) : undefined;
    links.push({
      href: here === undefined ? loginUrl : withParameter(loginUrl, 'return_to', here),
      label: 'link.sign_in',
    });
  }
  if (offers.retry) links.push({ href: sameAddress(req), label: 'link.retry' });
  if (returnTo !== undefined) links.push({ href: returnTo, label: offers.continue ? 'link.continue' : 'link.return' });
  if (offers.support && supportUrl !== undefined) links.push({ href: supportUrl, label: 'link.support' });
  return links;
}
