import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { MESSAGE_IDS } from '../../src/kratos/messages.js';
import { RULES, type AttributeKind, type RuleSet } from '../../src/matching/ruleSets.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('documentation agrees with the code', () => {
  it('.env.example lists every variable the service reads, and nothing else', () => {
    const listed = [...envExample.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('the README configuration table lists every variable', () => {
    const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(rows.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('the README layout tree names only what exists, each under its own parent', () => {
    const tree = /## Development\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    let parent = '';
    const paths = tree.split('\n').flatMap((line) => {
      const names = /^( *)([^\s,]+(?:, [^\s,]+)*)/.exec(line);
      if (names === null) return [];
      const nested = (names[1] ?? '').length > 0;
      const entries = (names[2] ?? '').split(', ').map((name) => (nested ? `${parent}${name}` : name));
      if (!nested) parent = entries[0] ?? '';
      return entries;
    });
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((path) => !existsSync(new URL(`../../${path}`, import.meta.url)))).toEqual([]);
  });

  it('the README message table lists exactly the message ids the service sends', () => {
    const rows = [...readme.matchAll(/^\| (41\d{5}) \|/gm)].map((match) => Number(match[1]));
    expect(rows.sort()).toEqual(Object.values(MESSAGE_IDS).sort());
  });

  it("the README's examples of the attribute rule sets are what the rule sets do", () => {
    const table = readme.slice(readme.indexOf('| Traits | Document |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    expect(rows.length).toBeGreaterThan(10);
    const values = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
    for (const row of rows) {
      const [traits = '', document = '', ...results] = row
        .split(' | ')
        .map((cell) => cell.replace(/^\| |\|$/g, '').trim());
      const kind: AttributeKind = /\d{4}/.test(document)
        ? 'date'
        : document.includes('(last name)')
          ? 'family_name'
          : 'given_names';
      (['exact', 'relaxed', 'duo'] as RuleSet[]).forEach((ruleSet, index) => {
        for (const trait of values(traits)) {
          const found = RULES[ruleSet][kind](values(document)[0] as string, trait) ? 'match' : 'mismatch';
          expect(`${ruleSet}: ${trait} / ${document}: ${found}`).toBe(
            `${ruleSet}: ${trait} / ${document}: ${results[index]?.split(' ')[0]}`,
          );
        }
      });
    }
  });
});
