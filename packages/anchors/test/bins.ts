import { GAMUT313_POINTS } from '@disco/color';

/** The 313 ab bin centres (`GAMUT313_POINTS` of `@disco/color`). */
export function loadBins(): number[][] {
  return GAMUT313_POINTS.map((p) => [p[0], p[1]]);
}

/** Index of the bin whose centre is exactly `[a, b]` (throws if absent). */
export function binOf(points: number[][], a: number, b: number): number {
  const i = points.findIndex((p) => p[0] === a && p[1] === b);
  if (i < 0) throw new Error(`no bin at [${a}, ${b}]`);
  return i;
}
