import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/requireJsonnet.ts'],
    // Holds every stand-in's traffic to the published OpenAPI documents (test/support/conformance/).
    setupFiles: ['test/support/conformance/setup.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
