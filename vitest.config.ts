import { defineConfig } from 'vitest/config';

/**
 * One Kafka per run (global setup), real services everywhere, two workers: the machines that
 * run this have two cores, and every Kafka test file opens its own clients.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/stall-guard.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
