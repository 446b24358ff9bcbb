import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/no-leaked-labs.ts'],
    // End-to-end tests build real labs and push real traffic; on a 2-core machine
    // running files one after another keeps their numbers meaningful.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
