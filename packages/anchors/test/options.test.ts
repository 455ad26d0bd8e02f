import { describe, expect, it } from 'vitest';
import {
  COLOR_SAMPLING_DEFAULTS,
  KMEANS_DEFAULTS,
  LOCATOR_DEFAULTS,
  USER_ANCHOR_DEFAULTS,
  resolveColorSamplingOptions,
  resolveKMeansOptions,
  resolveLocatorOptions,
  resolveUserAnchorOptions,
} from '../src/index.js';

describe('options', () => {
  it('defaults are K=8, 20 iterations, tol 1e-4, k-means++, top 10, and are frozen', () => {
    expect(KMEANS_DEFAULTS).toEqual({ k: 8, maxIter: 20, tol: 1e-4, init: 'kmeans++', metric: 'euclidean', seed: 0 });
    expect(LOCATOR_DEFAULTS).toEqual({ ...KMEANS_DEFAULTS, placement: 'cluster', rules: 'distinct', initIndices: null });
    expect(COLOR_SAMPLING_DEFAULTS).toEqual({ variant: 0, topK: 10, diverse: 'min' });
    expect(USER_ANCHOR_DEFAULTS).toEqual({ cellSize: 16, mode: 'merge' });
    for (const d of [KMEANS_DEFAULTS, LOCATOR_DEFAULTS, COLOR_SAMPLING_DEFAULTS, USER_ANCHOR_DEFAULTS]) expect(Object.isFrozen(d)).toBe(true);
  });

  it('resolvers fill defaults, copy, and never mutate their argument', () => {
    const partial = { k: 4 };
    const r = resolveKMeansOptions(partial);
    expect(r).toEqual({ ...KMEANS_DEFAULTS, k: 4 });
    expect(partial).toEqual({ k: 4 });
    expect(r).not.toBe(KMEANS_DEFAULTS);
    expect(resolveLocatorOptions({ placement: 'random' }).placement).toBe('random');
    expect(resolveColorSamplingOptions({ variant: 2 })).toEqual({ variant: 2, topK: 10, diverse: 'min' });
    expect(resolveUserAnchorOptions({ mode: 'replace' })).toEqual({ cellSize: 16, mode: 'replace' });
  });

  it('reject unknown keys and out-of-range values, listing the valid ones', () => {
    expect(() => resolveKMeansOptions({ iters: 3 } as never)).toThrow("resolveKMeansOptions: unknown option 'iters'; valid options: k, maxIter, tol, init, metric, seed");
    expect(() => resolveKMeansOptions({ maxIter: -1 })).toThrow('resolveKMeansOptions: maxIter must be an integer >= 0, got -1');
    expect(() => resolveKMeansOptions({ tol: NaN })).toThrow(/tol must be a finite number >= 0/);
    expect(() => resolveKMeansOptions({ metric: 'l1' as never })).toThrow('resolveKMeansOptions: metric must be one of euclidean, cosine, got l1');
    expect(() => resolveKMeansOptions({ seed: 2 ** 32 })).toThrow(/seed must be an integer in \[0, 4294967295\]/);
    expect(() => resolveKMeansOptions({ k: 2.5 })).toThrow(/k must be an integer >= 1, got 2.5/);
    expect(() => resolveLocatorOptions({ placement: 'grid' as never })).toThrow(/placement must be one of cluster, random/);
    expect(() => resolveColorSamplingOptions({ topK: 0 })).toThrow(/topK must be an integer >= 1, got 0/);
    expect(() => resolveUserAnchorOptions({ cellSize: 0 })).toThrow(/cellSize must be an integer >= 1, got 0/);
    expect(() => resolveUserAnchorOptions({ units: 'grid' } as never)).toThrow(/unknown option 'units'; valid options: cellSize, mode/);
  });
});
