import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );

describe('the production image', () => {
  it('is built in two stages on the current Node LTS', () => {
    const stages = instructions.filter((line) => line.startsWith('FROM '));
    expect(stages).toEqual(['FROM node:26-bookworm-slim AS build', 'FROM node:26-bookworm-slim AS runtime']);
  });

  it('runs compiled JavaScript with production dependencies only, as a non-root user, with a health check', () => {
    const runtime = instructions.slice(instructions.findIndex((line) => line.endsWith('AS runtime')));
    expect(runtime).toContain('RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('ENV NODE_OPTIONS="--max-old-space-size=128"');
    expect(runtime.some((line) => line.startsWith('HEALTHCHECK ') && dockerfile.includes('/healthz'))).toBe(true);
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/server.js"]');
    expect(dockerfile).not.toMatch(/\btsx\b/);
  });

  it('contains no development tools: the stand-ins and tests stay out', () => {
    expect(dockerignore).toEqual(expect.arrayContaining(['sandbox', 'test', 'bench', '.env', 'node_modules']));
    const imports = sourceFiles(join(ROOT, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((match) => match[1] as string),
    );
    expect(imports.filter((path) => /sandbox|test\/|vitest|supertest|tsx/.test(path))).toEqual([]);
  });
});
