import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SANDBOX = new URL('../../sandbox/', import.meta.url);
const modules = new Map(
  readdirSync(SANDBOX)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => [file.replace(/\.ts$/, ''), readFileSync(new URL(file, SANDBOX), 'utf8')]),
);
/** Each module's sandbox imports, type-only ones included. */
const imports = new Map(
  [...modules].map(([name, text]) => [name, [...text.matchAll(/from '\.\/([\w]+)\.js'/g)].map((match) => match[1])]),
);

describe('the sandbox', () => {
  it('is a set of rooms without import cycles', () => {
    const cycles: string[] = [];
    const visit = (name: string, path: string[]) => {
      for (const next of imports.get(name) ?? []) {
        if (next === undefined) continue;
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else visit(next, [...path, next]);
      }
    };
    for (const name of modules.keys()) visit(name, [name]);
    expect(cycles).toEqual([]);
  });

  it('never reaches into the tests', () => {
    const intoTests = [...modules].filter(([, text]) => /from '\.\.\/test\//.test(text)).map(([name]) => name);
    expect(intoTests).toEqual([]);
  });
});
