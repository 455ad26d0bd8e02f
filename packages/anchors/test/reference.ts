/**
 * Plain-loop float64 k-means, written independently of the tfjs implementation, following the rules
 * documented on `kmeans`: nearest centroid (ties to the lower index), mean update, empty clusters
 * re-seeded with the farthest tokens from their updated centroid, stop when the largest shift ≤ tol.
 */
export interface RefResult {
  assignments: number[];
  centroids: number[][];
  iterations: number;
}

function d2(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

function unit(v: number[]): number[] {
  const n = Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), 1e-12);
  return v.map((x) => x / n);
}

function assign(points: number[][], cents: number[][]): number[] {
  return points.map((p) => {
    let best = 0;
    for (let k = 1; k < cents.length; k++) if (d2(p, cents[k]!) < d2(p, cents[best]!)) best = k;
    return best;
  });
}

export function referenceKMeans(points0: number[][], init: number[][], maxIter: number, tol: number, cosine = false): RefResult {
  const points = cosine ? points0.map(unit) : points0;
  let cents = init.map((c) => (cosine ? unit(c) : c.slice()));
  const K = cents.length;
  const scale = Math.max(...points.map((p) => d2(p, p.map(() => 0))));
  let iterations = 0;
  for (let it = 0; it < maxIter; it++) {
    const a = assign(points, cents);
    const next = cents.map((c, k) => {
      const members = points.filter((_, t) => a[t] === k);
      if (members.length === 0) return c.slice();
      const m = c.map((_, q) => members.reduce((s, p) => s + p[q]!, 0) / members.length);
      return cosine ? unit(m) : m;
    });
    const empties = [];
    for (let k = 0; k < K; k++) if (!a.includes(k)) empties.push(k);
    let reseeded = false;
    if (empties.length > 0) {
      const far = points.map((p, t) => ({ t, d: d2(p, next[a[t]!]!) })).sort((x, y) => y.d - x.d || x.t - y.t);
      empties.forEach((k, i) => {
        if (far[i] && far[i]!.d > 1e-10 * scale) {
          next[k] = points[far[i]!.t]!.slice();
          reseeded = true;
        }
      });
    }
    const shift = Math.max(...next.map((c, k) => Math.sqrt(d2(c, cents[k]!))));
    cents = next;
    iterations++;
    if (!reseeded && shift <= tol) break;
  }
  return { assignments: assign(points, cents), centroids: cents, iterations };
}
