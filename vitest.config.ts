import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    // native addons (onnxruntime-node) are safest in separate processes
    pool: 'forks',
    // correctness tests, not timings: generous limits so a busy 2-core machine does not fail them
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
