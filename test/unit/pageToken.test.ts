import { describe, expect, it } from 'vitest';
import { nextPageToken } from '../../src/kratos/pageToken.js';

describe("nextPageToken: the next page of Kratos's identity list", () => {
  it.each([
    [
      'two Link headers as Node joins them',
      '</admin/identities?page_size=2&page_token=AAA>; rel="first", </admin/identities?page_size=2&page_token=B%3D%3D>; rel="next"',
      'B==',
    ],
    [
      'one header joined with a comma, absolute URLs',
      '<https://x.projects.oryapis.com/admin/identities?page_size=2&page_token=AAA>; rel="first",<https://x.projects.oryapis.com/admin/identities?page_size=2&page_token=CCC>; rel="next"',
      'CCC',
    ],
    [
      'the whole URL percent-encoded',
      '<%2Fadmin%2Fidentities%3Fpage_size%3D2%26page_token%3DDDD>; rel="first",<%2Fadmin%2Fidentities%3Fpage_size%3D2%26page_token%3DEEE>; rel="next"',
      'EEE',
    ],
  ])('reads %s', (_case, header, token) => {
    expect(nextPageToken(header)).toBe(token);
  });

  it('finds none on the last page, without a header, or with an empty token', () => {
    expect(nextPageToken('</admin/identities?page_size=2&page_token=AAA>; rel="first"')).toBeUndefined();
    expect(nextPageToken(undefined)).toBeUndefined();
    expect(nextPageToken('</admin/identities?page_size=2&page_token=>; rel="next"')).toBeUndefined();
  });
});
