import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes, not worker threads: each test file gets its own addon state (threads, CPU path).
    pool: 'forks',
    testTimeout: 60_000,
  },
});
