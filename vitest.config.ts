import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests run worker pools and simulators; two cores are enough for two files.
    maxWorkers: 2,
  },
});
