import { afterEach, beforeEach } from 'vitest';
import { inspectExchangesByDefault, type Exchange } from '../../../sandbox/exchangeInspection.js';
import { checkExchange, describeViolation, snapshot } from './checkExchange.js';

/**
 * Every stand-in any test starts is held to the published OpenAPI documents (vitest `setupFiles`):
 * each request the service sends and each answer or webhook the stand-ins give is recorded as it
 * happens and checked after the test, which fails naming the operation and the field of every
 * violation. Checking afterwards keeps the schema compilation off the stand-ins' answers, so no
 * timeout of the service under test is spent on it. Tests of the stand-ins that send malformed
 * requests on purpose give their stand-in an inspector of their own.
 */
let exchanges: Exchange[] = [];

inspectExchangesByDefault((exchange) => {
  // A snapshot: the stand-ins may change the objects they answered with later.
  exchanges.push(snapshot(exchange));
});

beforeEach(() => {
  exchanges = [];
});

afterEach(() => {
  const found = exchanges.flatMap(checkExchange);
  exchanges = [];
  if (found.length > 0) {
    const lines = [...new Set(found.map(describeViolation))];
    throw new Error(`The stand-ins' traffic departs from the published API documents:\n  ${lines.join('\n  ')}`);
  }
});
