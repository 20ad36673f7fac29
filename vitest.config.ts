import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    // native addons (onnxruntime-node) are safest in separate processes
    pool: 'forks',
    // correctness tests, not timings: a test gets about four times what it takes on a busy 2-core
    // machine; the slow suites set their own limit at their top (vi.setConfig), with the reason
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
