import { configDefaults, type UserWorkspaceConfig } from 'vitest/config';

/**
 * The slow tests, by package: end to end (whole training runs with their resumes and faults, the
 * `train` command lines, packing into a scratch project, real browsers). `npm test` (CI, `.ci/run`)
 * runs every test; `npm run test:fast` sets `DISCO_TEST_FAST=1`, which leaves these files out.
 */
export const SLOW_TESTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  colorize: ['test/train-run.test.ts', 'test/disco-cli.test.ts', 'test/parallel.test.ts', 'test/faults.test.ts', 'test/readme.test.ts', 'test/data-safety.test.ts'],
  superpixel: ['test/train-run.test.ts', 'test/spixnet-cli.test.ts', 'test/pack.test.ts'],
  experiments: ['test/ablation-grid.test.ts', 'test/report.browser.test.ts'],
  demo: ['test/demo.browser.test.ts'],
});

/** The Vitest settings every package shares: Node environment, source-condition resolution. */
export function shared(name: string): UserWorkspaceConfig {
  const fast = process.env.DISCO_TEST_FAST === '1';
  return {
    resolve: { conditions: ['@disco/source'] },
    ssr: { resolve: { conditions: ['@disco/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: [...configDefaults.exclude, ...(fast ? (SLOW_TESTS[name] ?? []) : [])],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // tfjs keeps one global engine per process; one fork per file keeps tests independent.
      pool: 'forks',
      poolOptions: { forks: { singleFork: false } },
    },
  };
}
