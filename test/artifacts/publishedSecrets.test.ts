import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SECRET_VARIABLES } from '../../src/config.js';
import { secretProblem } from '../../src/security/secretPolicy.js';

/**
 * Every value this project writes down for one of the service's secrets (documentation, examples,
 * scripts, the sandbox) is public the moment it is pushed: the service must refuse to start with
 * it, in production or anywhere else.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED = [
  'README.md',
  'CHANGELOG.md',
  '.env.example',
  'Dockerfile',
  'docker-compose.example.yml',
  'ory-actions.yaml',
  'ory-actions.require-approved.yaml',
  'deploy',
  'docker',
  'jsonnet',
  'sandbox',
  'scripts',
];

const filesUnder = (path: string): string[] =>
  statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => filesUnder(join(path, name))) : [path];

/**
 * `NAME=value`, `NAME: value` (YAML, shell, dotenv), or `NAME: 'value'` in TypeScript, where an
 * unquoted value is an expression.
 */
function writtenValues(file: string, text: string): string[] {
  const quotedOnly = file.endsWith('.ts');
  const values: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const pattern = new RegExp(`(?<!\\{)\\b${name}[ \\t]*[=:][ \\t]*(['"]?)([^\\s'"\`,;)]+)\\1`, 'g');
    for (const [, quote, value] of text.matchAll(pattern)) {
      // Expansions (`$...`) and printf's `%s` stand for values generated where they run.
      if (value === undefined || /^[$%]/.test(value) || (quotedOnly && quote === '')) continue;
      values.push(value);
    }
  }
  return values;
}

const written = SHIPPED.flatMap((entry) => filesUnder(join(ROOT, entry))).flatMap((file) =>
  writtenValues(file, readFileSync(file, 'utf8')).map((value) => [relative(ROOT, file), value] as const),
);

describe('secret values published in this repository', () => {
  it('are found where the files write them down', () => {
    expect(written.map(([file]) => file)).toEqual(expect.arrayContaining(['deploy/kubernetes/secret.template.yaml']));
  });

  it.each(written)('%s: %s is refused', (_file, value) => {
    expect(secretProblem(value)).toBeDefined();
  });
});
