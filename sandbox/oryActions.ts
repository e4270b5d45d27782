import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Config } from '../src/config.js';

/**
 * The `ory-actions` snippet an operator with this configuration merges into Kratos: without a
 * grace period, `require-approved` needs the one whose registration signs nobody in.
 */
export function oryActionsSnippetFor(config: Readonly<Config>): string {
  return config.login.policy === 'require-approved' && config.login.gracePeriodMs === undefined
    ? 'ory-actions.require-approved.yaml'
    : 'ory-actions.yaml';
}

/** Whether the snippet's registration ends with Kratos's `session` hook, read from the file itself. */
export function registersWithSession(snippet: string): boolean {
  const text = readFileSync(new URL(`../${snippet}`, import.meta.url), 'utf8');
  const flows = (parse(text) as { selfservice?: { flows?: { registration?: { after?: unknown } } } }).selfservice
    ?.flows;
  return JSON.stringify(flows?.registration?.after ?? {}).includes('"hook":"session"');
}
