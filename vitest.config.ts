import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
    // native addons (onnxruntime-node) are safest in separate processes
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
