/**
 * SEC-004: DYNAMIC_API_URL values the configuration must refuse (a credential could leave over them) and values it
 * must accept (https to Dynamic's hosts, http to loopback).
 */

/** What is wrong with each URL, and the URL. */
export const REFUSED_API_URLS: [string, string][] = [
  ['plain http to Dynamic', 'http://app.dynamic.xyz/api/v0'],
  ['https to another host', 'https://app.dynamic.xyz.example.com/api/v0'],
  ['http to a private address', 'http://10.0.0.1/api/v0'],
  ['credentials in the URL', 'https://user:password@app.dynamic.xyz/api/v0'],
  ['a query string in the URL', 'https://app.dynamic.xyz/api/v0?debug=1'],
];

export const ACCEPTED_API_URLS = [
  'https://app.dynamic.xyz/api/v0',
  'https://app.dynamicauth.com/api/v0',
  'http://127.0.0.1:4010/api/v0',
  'http://localhost:4010/api/v0',
];
