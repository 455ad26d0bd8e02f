/**
 * The accuracy / color frontier of colorization models: mean ab error against colorfulness of the
 * rows of `experiments:score` reports — predicted anchors at each post-hoc rebalancing α
 * (`--anchor-rebalances`), expected anchor colors, and the references (grey, the mean color, the
 * baselines) — drawn with vega-lite, the target region shaded (ab error below grey's,
 * colorfulness at least a given share of the photos'). Node only (renders with vega and sharp).
 */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { HeldoutScores } from './heldout.js';

/** One point of the frontier plot. */
export interface FrontierPoint {
  /** Model label (a series) or, for a reference, its row name (`grey`, `mean color`, `… baseline`). */
  series: string;
  /** `predicted` (predicted anchors at `alpha`), `expected` (expected anchor colors) or `reference`. */
  kind: 'predicted' | 'expected' | 'reference';
  /** Post-hoc rebalancing α of a `predicted` point (0: the plain most probable bin). */
  alpha?: number;
  /** Mean ab error (Lab units). */
  error: number;
  /** Mean colorfulness (Hasler & Süsstrunk 2003). */
  colorfulness: number;
}

/** What {@link frontierPoints} returns: the points and the photos' own statistics. */
export interface Frontier {
  /** Predicted-anchor points (per model, by α), then expected anchor colors, then references. */
  points: FrontierPoint[];
  /** Colorfulness of the photos scored. */
  truthColorfulness: number;
  /** Grey's mean ab error on the same photos. */
  greyError: number;
  /** Photos scored. */
  images: number;
}

const ALPHA = /α = (-?\d+(?:\.\d+)?(?:e-?\d+)?)/;

/**
 * Collects the frontier of labelled score reports. Reports with the same label are one model
 * scored several times (e.g. one `--anchor-rebalances` sweep per run); all must cover the same
 * photos. A point appearing twice (the plain model in two runs) is kept once.
 *
 * @example
 * ```ts
 * const f = frontierPoints([{ label: 'v4', scores: s1 }, { label: 'v4', scores: s2 }]);
 * f.points.filter((p) => p.kind === 'predicted'); // one per α, sorted by α
 * ```
 */
export function frontierPoints(reports: readonly { label: string; scores: HeldoutScores; source?: string }[]): Frontier {
  if (reports.length === 0) throw new Error('frontierPoints: no reports');
  const first = reports[0]!.scores;
  const grey = first.methods['grey'];
  if (!grey) throw new Error(`frontierPoints: ${reports[0]!.source ?? 'the first report'} has no 'grey' row`);
  const points: FrontierPoint[] = [];
  const seen = new Set<string>();
  const add = (p: FrontierPoint): void => {
    const key = `${p.series}|${p.kind}|${p.alpha ?? ''}`;
    if (!seen.has(key)) {
      seen.add(key);
      points.push(p);
    }
  };
  for (const { label, scores, source } of reports) {
    if (scores.truth.images !== first.truth.images || Math.abs(scores.truth.colorfulness - first.truth.colorfulness) > 1e-9) {
      throw new Error(`frontierPoints: ${source ?? label} scores other photos than the first report (${scores.truth.images} images, colorfulness ${scores.truth.colorfulness.toFixed(2)} against ${first.truth.images}, ${first.truth.colorfulness.toFixed(2)})`);
    }
    for (const [name, m] of Object.entries(scores.methods)) {
      const at = { error: m.meanError, colorfulness: m.colorfulness };
      const alpha = ALPHA.exec(name);
      if (name === 'DISCO') add({ series: label, kind: 'predicted', alpha: 0, ...at });
      else if (alpha && name.startsWith('DISCO, anchor rebalance')) add({ series: label, kind: 'predicted', alpha: Number(alpha[1]), ...at });
      else if (name === 'DISCO, expected anchor colors') add({ series: label, kind: 'expected', ...at });
      else if (name === 'grey' || name === 'mean color' || name.endsWith(' baseline')) add({ series: name, kind: 'reference', ...at });
    }
  }
  const order = { predicted: 0, expected: 1, reference: 2 } as const;
  points.sort((a, b) => order[a.kind] - order[b.kind] || a.series.localeCompare(b.series) || (a.alpha ?? 0) - (b.alpha ?? 0));
  return { points, truthColorfulness: first.truth.colorfulness, greyError: grey.meanError, images: first.truth.images };
}

/**
 * The vega-lite spec of the frontier: one line per model through its α sweep (labelled with α),
 * diamonds for expected anchor colors, black squares for the references, and the target region
 * (colorfulness ≥ `colorShare` × the photos', error below grey's) shaded green.
 *
 * @example
 * ```ts
 * const png = await renderVegaLitePng(frontierSpec(frontierPoints(reports), { colorShare: 0.6 }));
 * ```
 */
export function frontierSpec(f: Frontier, options: { title?: string; colorShare?: number } = {}): TopLevelSpec {
  const share = options.colorShare ?? 0.6;
  const xTarget = share * f.truthColorfulness;
  const errors = f.points.map((p) => p.error);
  const xMax = Math.ceil(Math.max(f.truthColorfulness, ...f.points.map((p) => p.colorfulness)) / 5) * 5;
  const yMin = Math.floor(Math.min(f.greyError, ...errors) - 1);
  const yMax = Math.ceil(Math.max(f.greyError, ...errors) + 1);
  const x = { field: 'colorfulness', type: 'quantitative' as const };
  const y = { field: 'error', type: 'quantitative' as const };
  const color = { field: 'series', type: 'nominal' as const };
  // vega-lite's InlineData wants plain records
  const of = (kind: FrontierPoint['kind']) => ({ values: f.points.filter((p) => p.kind === kind).map((p) => ({ ...p }) as Record<string, unknown>) });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v4.json',
    width: 620,
    height: 380,
    background: 'white',
    title: options.title ?? `accuracy / color frontier (${f.images} held-out photos; the photos' colorfulness ${f.truthColorfulness.toFixed(1)})`,
    layer: [
      {
        data: { values: [{ x: xTarget, x2: xMax, y: yMin, y2: f.greyError }] },
        mark: { type: 'rect', color: '#2ca02c', opacity: 0.12 },
        encoding: { x: { field: 'x', type: 'quantitative' }, x2: { field: 'x2' }, y: { field: 'y', type: 'quantitative' }, y2: { field: 'y2' } },
      },
      {
        data: { values: [{ x: xTarget + 0.5, y: yMin + 0.4, t: `target: error < grey, colorfulness ≥ ${Math.round(share * 100)} %` }] },
        mark: { type: 'text', align: 'left', color: '#2ca02c', fontSize: 11 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 't', type: 'nominal' } },
      },
      {
        data: of('predicted'),
        mark: { type: 'line', point: true },
        encoding: {
          x: { ...x, scale: { domain: [0, xMax] }, title: 'colorfulness (Hasler & Süsstrunk) →' },
          y: { ...y, scale: { domain: [yMin, yMax], zero: false }, title: '← mean ab error (Lab units)' },
          color: { ...color, title: 'model (α labels; ◆ expected)', legend: { labelLimit: 280, titleLimit: 320, orient: 'right' } },
          order: { field: 'alpha', type: 'quantitative' },
        },
      },
      { data: of('predicted'), mark: { type: 'text', dy: -9, fontSize: 9 }, encoding: { x, y, color, text: { field: 'alpha', type: 'quantitative', format: '.1f' } } },
      { data: of('expected'), mark: { type: 'point', shape: 'diamond', filled: true, size: 70 }, encoding: { x, y, color } },
      { data: of('reference'), mark: { type: 'point', shape: 'square', filled: true, size: 60, color: 'black' }, encoding: { x, y } },
      { data: of('reference'), mark: { type: 'text', dx: 8, dy: 10, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'series', type: 'nominal' } } },
    ],
  };
}

/**
 * Renders a vega-lite spec to PNG (vega's SVG renderer, rasterised by sharp at 2× density): no
 * browser or canvas needed.
 *
 * @example
 * ```ts
 * fs.writeFileSync('plot.png', await renderVegaLitePng({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } }));
 * ```
 */
export async function renderVegaLitePng(spec: TopLevelSpec): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
  } finally {
    view.finalize();
  }
}

/** The frontier's points as a Markdown table (series, point, α, ab error, colorfulness). */
export function frontierTable(f: Frontier): string {
  const rows = f.points.map((p) => `| ${p.series} | ${p.kind === 'predicted' ? 'predicted anchors' : p.kind === 'expected' ? 'expected anchor colors' : 'reference'} | ${p.alpha ?? ''} | ${p.error.toFixed(2)} | ${p.colorfulness.toFixed(1)} |`);
  return ['| series | point | α | ab error ↓ | colorfulness |', '|---|---|---:|---:|---:|', ...rows].join('\n');
}
