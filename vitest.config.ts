import { defineConfig } from 'vitest/config';

/** Tests that measure time or memory (as ratios or bounds): run one at a time, after all the others. */
const MEASURED = 'test/**/*.measured.test.ts';

export default defineConfig({
  test: {
    // jsonnet first: without it the suite stops at once. Then one Postgres server for the run;
    // each test file creates its own database on it.
    globalSetup: ['test/support/requireJsonnet.ts', 'test/support/globalPostgres.ts'],
    // Holds every stand-in's traffic to the published OpenAPI documents (test/support/conformance/).
    setupFiles: ['test/support/conformance/setup.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [MEASURED], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'measured', include: [MEASURED], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
