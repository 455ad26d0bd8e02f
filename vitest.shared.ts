import type { UserWorkspaceConfig } from 'vitest/config';

/** The Vitest settings every package shares: Node environment, source-condition resolution. */
export function shared(name: string): UserWorkspaceConfig {
  return {
    resolve: { conditions: ['@disco/source'] },
    ssr: { resolve: { conditions: ['@disco/source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // tfjs keeps one global engine per process; one fork per file keeps tests independent.
      pool: 'forks',
      poolOptions: { forks: { singleFork: false } },
    },
  };
}
