/**
 * The report's statistics by hand: t quantiles (closed forms for df = 1, 2; published table
 * values and scipy.stats.t.ppf for the rest), Welch, paired and bootstrap intervals on small
 * samples worked out on paper, the verdict logic, and the grid statistics on a tiny grid.
 */
import { describe, expect, it } from 'vitest';
import {
  ablationStats,
  bootstrapInterval,
  expectedSign,
  gridStats,
  normalQuantile,
  pairedInterval,
  studentTCdf,
  studentTQuantile,
  summarize,
  verdictOf,
  welchInterval,
} from '../src/report/stats.js';
import type { GridResults } from '../src/ablation/types.js';
import { syntheticGrid } from './report-fixtures.js';

describe('Student t quantiles', () => {
  it('matches the two-sided 95 % table for small df', () => {
    // t_{0.975, df}: the classic table (Student 1908; Fisher & Yates), 9 decimals from scipy.
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736, 8);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.30265273, 8);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445105, 8);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456, 8);
    expect(studentTQuantile(0.995, 3)).toBeCloseTo(5.84090931, 8);
    expect(studentTQuantile(0.975, 1000)).toBeCloseTo(1.962339081, 8);
  });

  it('handles the non-integer df of Welch intervals', () => {
    expect(studentTQuantile(0.975, 2.5)).toBeCloseTo(3.574654842, 8);
    expect(studentTQuantile(0.975, 50 / 17)).toBeCloseTo(3.218758615, 8);
    expect(studentTQuantile(0.9, 7.3)).toBeCloseTo(1.408922318, 8);
    expect(studentTQuantile(0.999, 1.2)).toBeCloseTo(127.137688359, 5);
  });

  it('agrees with the closed forms of df = 1 (Cauchy) and df = 2', () => {
    for (const p of [0.6, 0.75, 0.9, 0.975, 0.999]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 7);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 8);
    }
  });

  it('is odd around p = 0.5, inverts the CDF and tends to the normal quantile', () => {
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776445105, 8);
    for (const df of [1, 2.7, 9, 40]) for (const p of [0.55, 0.8, 0.99]) expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
    expect(() => studentTQuantile(1, 3)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
  });

  it('has the CDF of the closed forms of df = 1 (Cauchy) and df = 2', () => {
    for (const t of [-30, -2.5, -0.4, 0, 0.7, 3, 120]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(t * t + 2)), 12);
    }
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTCdf(-Infinity, 3)).toBe(0);
    expect(() => studentTCdf(1, 0)).toThrow(RangeError);
  });
});

describe('summaries and intervals', () => {
  it('mean ± sample std', () => {
    expect(summarize([1, 2, 3, 4])).toEqual({ n: 4, mean: 2.5, std: Math.sqrt(5 / 3), values: [1, 2, 3, 4] });
    expect(summarize([7])).toEqual({ n: 1, mean: 7, std: null, values: [7] });
    expect(summarize([]).n).toBe(0);
    expect(() => summarize([1, NaN])).toThrow(RangeError);
  });

  it('Welch with equal spreads and n: df = 2(n − 1) = 4', () => {
    // a = 1,2,3; b = 5,6,7: Δ = −4, s² = 1 each, se = √(1/3 + 1/3) = 0.8164966, t(0.975, 4) = 2.7764451.
    const d = welchInterval([1, 2, 3], [5, 6, 7]);
    expect(d.delta).toBe(-4);
    expect(d.df).toBeCloseTo(4, 12);
    expect(d.lo).toBeCloseTo(-4 - 2.7764451052 * Math.sqrt(2 / 3), 8);
    expect(d.hi).toBeCloseTo(-4 + 2.7764451052 * Math.sqrt(2 / 3), 8);
    expect(d.hi!).toBeCloseTo(-1.7330, 4);
    // b = 3,4,5: Δ = −2, interval [−4.26696, 0.26696] contains 0.
    const e = welchInterval([1, 2, 3], [3, 4, 5]);
    expect(e.lo).toBeCloseTo(-4.266958, 5);
    expect(e.hi).toBeCloseTo(0.266958, 5);
  });

  it('Welch with unequal spreads: Welch–Satterthwaite df', () => {
    // a = 1,2,3 (s² = 1); b = 4,6,8 (s² = 4): se² = 1/3 + 4/3 = 5/3, ν = (5/3)² / ((1/3)²/2 + (4/3)²/2) = 50/17.
    const d = welchInterval([1, 2, 3], [4, 6, 8]);
    expect(d.delta).toBe(-4);
    expect(d.df).toBeCloseTo(50 / 17, 12);
    const h = 3.218758614532882 * Math.sqrt(5 / 3);
    expect(d.lo).toBeCloseTo(-4 - h, 8);
    expect(d.hi).toBeCloseTo(-4 + h, 8);
    // n = 2 against a constant pair: s_a² = 2, va = 1, vb = 0 → ν = 1, t = 12.7062.
    const f = welchInterval([1, 3], [0, 0]);
    expect(f.df).toBeCloseTo(1, 12);
    expect(f.lo).toBeCloseTo(2 - 12.706204736, 7);
  });

  it('no interval with one seed; a point interval without spread', () => {
    const d = welchInterval([5], [1, 2, 3]);
    expect(d.delta).toBe(3);
    expect(d.lo).toBeNull();
    expect(d.hi).toBeNull();
    expect(d.note).toMatch(/at least 2 seeds/);
    const p = welchInterval([2, 2], [1, 1]);
    expect([p.lo, p.hi]).toEqual([1, 1]);
  });

  it('paired t over shared seeds', () => {
    // d = 1, 1.5, 2 (seed 3 unpaired, ignored): mean 1.5, s = 0.5, se = 0.5/√3, t(0.975, 2) = 4.3026527.
    const d = pairedInterval(
      new Map([
        [0, 1],
        [1, 2],
        [2, 4],
        [3, 9],
      ]),
      new Map([
        [0, 0],
        [1, 0.5],
        [2, 2],
      ]),
    );
    expect(d.delta).toBeCloseTo(1.5, 12);
    expect(d.df).toBe(2);
    expect(d.n).toEqual([3, 3]);
    expect(d.lo).toBeCloseTo(1.5 - (4.30265273 * 0.5) / Math.sqrt(3), 8);
    expect(d.lo).toBeCloseTo(0.257931, 5);
  });

  it('bootstrap: seeded, within the data range, empty with n = 1', () => {
    const a = [10, 11, 12, 13];
    const b = [1, 2, 3, 4];
    const d = bootstrapInterval(a, b, { seed: 1, resamples: 4000 });
    expect(d.delta).toBe(9);
    expect(d.lo!).toBeGreaterThanOrEqual(6);
    expect(d.hi!).toBeLessThanOrEqual(12);
    expect(d.lo!).toBeLessThan(9);
    expect(d.hi!).toBeGreaterThan(9);
    expect(bootstrapInterval(a, b, { seed: 1, resamples: 4000 })).toEqual(d);
    expect(bootstrapInterval([1], b).lo).toBeNull();
  });
});

describe('verdicts', () => {
  it('derives the expected sign of Δ from the claim and the metric direction', () => {
    expect(expectedSign({ metric: 'fid', base: 'better', claim: '' })).toBe(1); // variant has a higher (worse) FID
    expect(expectedSign({ metric: 'auc', base: 'better', claim: '' })).toBe(-1);
    expect(expectedSign({ metric: 'fid', base: 'worse', claim: '' })).toBe(-1);
    expect(expectedSign({ metric: 'colorfulness', base: 'worse', claim: '' })).toBe(1);
  });

  it('reproduced / contradicted / inconclusive', () => {
    const up = welchInterval([5, 6, 7], [1, 2, 3]); // [1.73, 6.27]
    expect(verdictOf(up, 1)).toBe('reproduced');
    expect(verdictOf(up, -1)).toBe('contradicted');
    expect(verdictOf(welchInterval([1, 2, 3], [3, 4, 5]), -1)).toBe('inconclusive');
    expect(verdictOf(welchInterval([9], [1, 2, 3]), 1)).toBe('inconclusive');
  });
});

describe('grid statistics', () => {
  const grid: GridResults = syntheticGrid({ seeds: [0, 1, 2] });

  it('has one row per variant, the base first, with seeds and differences', () => {
    const s = gridStats(grid);
    expect(s.ablations.map((a) => a.ablation.id)).toEqual(['anchors', 'branch', 'superpixels', 'refinement', 'clustering']);
    const anchors = s.ablations[0];
    expect(anchors.rows.map((r) => r.variant)).toEqual(['k8', 'k1', 'k2', 'k4', 'k16']);
    expect(anchors.rows[0].isBase).toBe(true);
    expect(anchors.rows[0].metrics.fid!.diff).toBeUndefined();
    const k1 = anchors.rows[1];
    expect(k1.seeds).toEqual([0, 1, 2]);
    const fid = k1.metrics.fid!;
    const base = anchors.rows[0].metrics.fid!;
    expect(fid.diff!.delta).toBeCloseTo(fid.summary.mean - base.summary.mean, 12);
    expect(fid.diff!.method).toBe('welch');
    expect(s.testTimeK.map((t) => t.K)).toEqual([1, 2, 4, 8, 16]);
    // The no-branch variant has no anchors: no oracle metrics.
    const branch = s.ablations[1].rows[1];
    expect(branch.metrics.oracleAbError).toBeUndefined();
  });

  it('checks each claim, and the synthetic effects come out as built', () => {
    const s = gridStats(grid);
    const verdicts = Object.fromEntries(s.ablations.flatMap((a) => a.claims.map((c) => [c.variant, c.verdict])));
    // The fixture builds clear effects in the paper's direction for k1 and no-branch, the opposite for random, none for hard.
    expect(verdicts['k1']).toBe('reproduced');
    expect(verdicts['no-branch']).toBe('reproduced');
    expect(verdicts['random']).toBe('contradicted');
    expect(verdicts['hard']).toBe('inconclusive');
  });

  it('one seed: every claim inconclusive, with the reason', () => {
    const one = syntheticGrid({ seeds: [0] });
    for (const c of ablationStats(one, one.ablations[0]).claims) {
      expect(c.verdict).toBe('inconclusive');
      expect(c.note).toMatch(/seeds/);
    }
  });

  it('a paired option', () => {
    const s = gridStats(grid, { method: 'paired' });
    const d = s.ablations[0].rows[1].metrics.fid!.diff!;
    expect(d.method).toBe('paired');
    expect(d.df).toBe(2);
  });
});
