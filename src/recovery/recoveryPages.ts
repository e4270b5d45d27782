import type { Page } from '../http/pages.js';

export const RECOVERY_PATH = '/persona/recover';
export const RECOVERY_RETURN_PATH = '/persona/recover/return';

/**
 * How long the recovery code Kratos creates stays valid (Kratos's `expires_in`, a Go duration):
 * short, it is shown on a page. The catalogue's `recovery.code.message` says "ten minutes".
 */
export const RECOVERY_CODE_EXPIRES_IN = '10m';

/** The recovery pages, by the keys of their texts in the message catalogue. */
export const RECOVERY_PAGES = {
  form: {
    title: 'recovery.form.title',
    message: 'recovery.form.message',
    form: {
      action: RECOVERY_PATH,
      label: 'recovery.form.label',
      name: 'identifier',
      autocomplete: 'username',
      submit: 'recovery.form.submit',
    },
  },
  invalidIdentifier: {
    title: 'recovery.form.title',
    message: 'recovery.invalid_identifier.message',
    links: [{ href: RECOVERY_PATH, label: 'link.retry' }],
  },
  crossSite: {
    title: 'recovery.form.title',
    message: 'recovery.cross_site.message',
    links: [{ href: RECOVERY_PATH, label: 'link.start_again' }],
  },
  expired: {
    title: 'recovery.expired.title',
    message: 'recovery.expired.message',
    links: [{ href: RECOVERY_PATH, label: 'link.start_again' }],
  },
  checking: {
    title: 'recovery.checking.title',
    message: 'recovery.checking.message',
    links: [{ href: RECOVERY_RETURN_PATH, label: 'link.check_again' }],
  },
  notRecovered: { title: 'recovery.not_recovered.title', message: 'recovery.not_recovered.message' },
  alreadyIssued: {
    title: 'recovery.already_issued.title',
    message: 'recovery.already_issued.message',
    links: [{ href: RECOVERY_PATH, label: 'link.start_again' }],
  },
  code: (code: string, recoveryLink: string): Page => ({
    title: 'recovery.code.title',
    message: 'recovery.code.message',
    detail: code,
    links: [{ href: recoveryLink, label: 'link.continue' }],
  }),
} satisfies Record<string, Page | ((...args: never[]) => Page)>;
