import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscoModel, resolveDiscoConfig } from '@disco/colorize';
import { selectBackend } from '@disco/runtime';
import { frontierPoints, frontierSpec, frontierTable, modelMethods, renderVegaLitePng, type HeldoutScores } from '../src/node.js';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const row = (meanError: number, colorfulness: number) => ({ meanError, auc: 0.87, colorfulness, green: 0, red: 0, images: 24 });
const truth = { colorfulness: 46.8, green: 0.157, red: 0.134, images: 24 };

/** A report as experiments:score writes it, with the method names `modelMethods` gives. */
function report(methods: Record<string, ReturnType<typeof row>>): HeldoutScores {
  return { truth, methods: { grey: row(18.97, 0), 'mean color': row(18.68, 6.9), ...methods } };
}

describe('frontierPoints / frontierSpec / frontierTable', () => {
  let names: string[] = [];
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    const m = DiscoModel.create(resolveDiscoConfig({ imageSize: 32, transformer: { layers: 1 } }, 'tiny'));
    names = modelMethods(m, { anchorRebalances: [-0.5, 0.25] }).map((x) => x.name);
    m.dispose();
  });

  it("reads every row name modelMethods gives (α of either sign), keeps a point seen twice once, sorts by α", () => {
    const [plain, expected, neg, pos, oracle] = names as [string, string, string, string, string];
    const a = report({ [plain]: row(19.58, 25.4), [expected]: row(19.86, 24.6), [neg]: row(18.49, 19.5), [oracle]: row(12.2, 37.2) });
    const b = report({ [plain]: row(19.58, 25.4), [pos]: row(22.0, 31.0), 'regression baseline': row(18.1, 23.0) });
    const f = frontierPoints([
      { label: 'v4', scores: a },
      { label: 'v4', scores: b },
    ]);
    expect(f.truthColorfulness).toBe(46.8);
    expect(f.greyError).toBe(18.97);
    expect(f.images).toBe(24);
    expect(f.points.filter((p) => p.kind === 'predicted').map((p) => [p.alpha, p.error])).toEqual([
      [-0.5, 18.49],
      [0, 19.58],
      [0.25, 22.0],
    ]);
    expect(f.points.filter((p) => p.kind === 'expected')).toEqual([{ series: 'v4', kind: 'expected', error: 19.86, colorfulness: 24.6 }]);
    // references once each, oracle anchors left out (an upper bound, not an operating point)
    expect(f.points.filter((p) => p.kind === 'reference').map((p) => p.series)).toEqual(['grey', 'mean color', 'regression baseline']);
    expect(f.points.some((p) => p.error === 12.2)).toBe(false);
    const t = frontierTable(f).split('\n');
    expect(t).toHaveLength(2 + f.points.length);
    expect(t[2]).toBe('| v4 | predicted anchors | -0.5 | 18.49 | 19.5 |');
  });

  it('shades the target region: colorfulness ≥ share × the photos’, error below grey’s', () => {
    const f = frontierPoints([{ label: 'm', scores: report({ DISCO: row(21, 30) }) }]);
    const spec = frontierSpec(f, { colorShare: 0.5 }) as unknown as { layer: { data: { values: Record<string, number>[] }; mark: { type: string } }[] };
    const rect = spec.layer.find((l) => l.mark.type === 'rect')!.data.values[0]!;
    expect(rect['x']).toBeCloseTo(0.5 * 46.8, 12);
    expect(rect['y2']).toBe(18.97);
    expect(rect['y']).toBeLessThan(18.97);
  });

  it('rejects reports of other photos and a report without grey, naming the report', () => {
    const other = { ...report({}), truth: { ...truth, images: 102 } };
    expect(() => frontierPoints([{ label: 'a', scores: report({}) }, { label: 'b', scores: other, source: 'runs/b/scores.json' }])).toThrow(/runs\/b\/scores\.json scores other photos than the first report \(102 images/);
    expect(() => frontierPoints([{ label: 'a', scores: { truth, methods: {} }, source: 'x/scores.json' }])).toThrow("frontierPoints: x/scores.json has no 'grey' row");
    expect(() => frontierPoints([])).toThrow('frontierPoints: no reports');
  });

  it('renders a PNG of the spec (vega SVG → sharp, 2× density)', async () => {
    const f = frontierPoints([{ label: 'm', scores: report({ DISCO: row(21, 30), 'DISCO, anchor rebalance α = -0.2': row(19, 22) }) }]);
    const png = await renderVegaLitePng(frontierSpec(f));
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(2 * 620);
    expect(meta.height).toBeGreaterThan(2 * 380);
    // not blank: the plot draws lines, points and text over the white background
    const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    let dark = 0;
    for (const v of data) if (v < 128) dark++;
    expect(dark / data.length).toBeGreaterThan(0.005);
  }, 60_000);
});

describe('experiments:frontier CLI', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-frontier-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--conditions=@disco/source', '--import', 'tsx', path.join(pkgDir, 'src/cli/frontier.ts'), ...args], { encoding: 'utf8', cwd: pkgDir, env: { ...process.env, INIT_CWD: dir } });

  it('writes the PNG and its points as JSON, prints the table', () => {
    fs.mkdirSync(path.join(dir, 'a'));
    fs.writeFileSync(path.join(dir, 'a', 'scores.json'), JSON.stringify({ command: 'experiments:score', scores: report({ DISCO: row(21, 30) }) }));
    const r = cli('--out', 'plots/f.png', '--series', 'model=a');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('frontier:'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('| model | predicted anchors | 0 | 21.00 | 30.0 |');
    expect(fs.existsSync(path.join(dir, 'plots', 'f.png'))).toBe(true);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'plots', 'f.png.json'), 'utf8')) as { points: unknown[]; greyError: number };
    expect(j.points).toHaveLength(3);
    expect(j.greyError).toBe(18.97);
  }, 60_000);

  it('bad input: one line naming the argument or the file, nothing written', () => {
    const bad = cli('--out', 'g.png', '--series', 'no-equals');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--series must be label=dir\[,dir…\]; got 'no-equals'/);
    const missing = cli('--out', 'g.png', '--series', 'm=nowhere');
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([`frontier: ${path.join(dir, 'nowhere', 'scores.json')}: no such file (run experiments:score with --out nowhere first)`]);
    fs.mkdirSync(path.join(dir, 'junk'));
    fs.writeFileSync(path.join(dir, 'junk', 'scores.json'), '{"scores": {}}');
    const junk = cli('--out', 'g.png', '--series', 'm=junk');
    expect(junk.stderr.trim()).toMatch(/junk\/scores\.json: not an experiments:score report/);
    expect(fs.existsSync(path.join(dir, 'g.png'))).toBe(false);
  }, 60_000);
});
