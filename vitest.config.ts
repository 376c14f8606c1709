import { defineConfig } from 'vitest/config';

// Three suites: unit (no sockets, processes or files), integration (the built-in core,
// real processes and gRPC over unix sockets in temp dirs), e2e (real containerd,
// Prometheus, Chromium). `npm test` runs all three.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          globalSetup: ['test/support/global-build.ts', 'test/support/debian-packages.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 600_000,
          globalSetup: ['test/support/global-build.ts', 'test/support/debian-packages.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
