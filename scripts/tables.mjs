// Tables of numbers in Markdown, rendered from the results JSON they come from.
//
// A generated table sits between two markers; everything between them is the generator's:
//
//   <!-- table:source=docs/results/parity-official-disco.json view=parity -->
//   | stage | … |
//   <!-- /table -->
//
// `source` is a JSON file relative to the repository root, `view` names a renderer below, and any
// other `key=value` (or `key="a value"`) is that view's option. `checkTables` reports every table
// whose text differs from what its JSON gives; `node scripts/docs.mjs --write` rewrites them.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

// Markers start a line (a marker quoted in prose or code is not one).
const OPEN = /^<!--\s*table:([^>]*?)\s*-->/gm;
const CLOSE = '\n<!-- /table -->';

/** `source=a.json view=rows rows="x,y"` → `{ source: 'a.json', view: 'rows', rows: 'x,y' }`. */
export function parseAttributes(text) {
  const attrs = {};
  const re = /([\w-]+)=(?:"([^"]*)"|(\S+))/g;
  let m;
  let rest = text;
  while ((m = re.exec(text)) !== null) {
    attrs[m[1]] = m[2] ?? m[3];
    rest = rest.replace(m[0], '');
  }
  if (rest.trim() !== '') throw new Error(`cannot read '${rest.trim()}' (write key=value or key="a value")`);
  return attrs;
}

/** The generated tables of one Markdown text: `{ attrs, line, start, end, body }` (body between the markers). */
export function findTables(markdown) {
  const tables = [];
  OPEN.lastIndex = 0;
  let m;
  while ((m = OPEN.exec(markdown)) !== null) {
    const line = markdown.slice(0, m.index).split('\n').length;
    const start = m.index + m[0].length;
    const end = markdown.indexOf(CLOSE, start);
    const next = markdown.slice(start).search(/^<!--\s*table:/m);
    if (end < 0 || (next >= 0 && start + next < end)) throw new Error(`line ${line}: table marker without its ${CLOSE.trim()}`);
    tables.push({ attrs: parseAttributes(m[1]), line, start, end: end + 1, body: markdown.slice(start, end + 1) });
    OPEN.lastIndex = end;
  }
  return tables;
}

// ---- formatting -------------------------------------------------------------------------------

const fixed = (digits) => (v) => (v === null || v === undefined ? '' : Number(v).toFixed(digits));
/** 6.7e-06, as Python and the fixture's README print it. */
const sci = (v) => {
  const [mant, exp] = Number(v).toExponential(1).split('e');
  const e = Number(exp);
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
};
const percent = (v) => (v === null || v === undefined ? '' : `${(100 * v).toFixed(1)} %`);

/** Held-out metrics: header and formatting of each `columns` key of the `rows` view. */
export const METRICS = {
  meanError: { header: 'mean ab error ↓', format: fixed(2) },
  auc: { header: 'AuC ↑', format: fixed(4) },
  aucRebalanced: { header: 'class-rebalanced AuC ↑', format: fixed(4) },
  colorfulness: { header: 'colorfulness', format: fixed(1) },
  green: { header: 'green (a < −10)', format: percent },
  red: { header: 'red (a > 15)', format: percent },
  fid2048: { header: 'FID 2048 ↓', format: fixed(3) },
  fidMixed5: { header: 'FID mixed5 ↓', format: fixed(3) },
  kidMixed5: { header: 'KID mixed5 ↓', format: fixed(4) },
  // the anchor path with oracle anchors (`diagnoseAnchors`)
  hintKept: { header: "generator's most probable bin = its hint bin, at the anchors", format: percent },
  generatorErrorAnchors: { header: "generator's decoded color vs truth, anchor tokens", format: fixed(2) },
  generatorError: { header: "generator's decoded color vs truth, all tokens", format: fixed(2) },
  generatorErrorNoHints: { header: 'same, hints withheld', format: fixed(2) },
  modelerError: { header: "modeler's decoded color vs truth, all tokens", format: fixed(2) },
  outputError: { header: 'model output vs truth', format: fixed(2) },
  outputErrorNoHints: { header: 'model output, hints withheld', format: fixed(2) },
};

function markdownTable(header, align, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`, ...rows.map(line)];
}

function get(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

// ---- views ------------------------------------------------------------------------------------

/**
 * `rows`: one row per key of an object of rows, columns from {@link METRICS}.
 * Options: `at` (dotted path to the object of rows; default `methods`), `rows` (comma-separated
 * keys, in order), `columns` (comma-separated metric names), `bold` (row keys whose label is bold),
 * `label` (the first column's header; default `method`), `transpose=true` (one column per row key,
 * one row per metric). Each row has a `label`; a metric it lacks is an empty cell.
 */
function rowsView(json, opts) {
  const table = get(json, opts.at ?? 'methods');
  if (!table || typeof table !== 'object') throw new Error(`no object at '${opts.at ?? 'methods'}'`);
  if (!opts.rows || !opts.columns) throw new Error("the rows view needs rows=… and columns=…");
  const columns = opts.columns.split(',');
  for (const c of columns) if (!METRICS[c]) throw new Error(`unknown column '${c}'; valid: ${Object.keys(METRICS).join(', ')}`);
  const bold = new Set((opts.bold ?? '').split(',').filter(Boolean));
  const keys = opts.rows.split(',');
  const records = keys.map((key) => {
    const r = table[key];
    if (!r) throw new Error(`no row '${key}'; the JSON has ${Object.keys(table).join(', ')}`);
    const label = r.label ?? key;
    return { label: bold.has(key) ? `**${label}**` : label, r };
  });
  if (opts.transpose === 'true') {
    // one column per row key, one row per metric
    const rows = columns.map((c) => [METRICS[c].header, ...records.map(({ r }) => METRICS[c].format(r[c]))]);
    return markdownTable([opts.label ?? '', ...records.map((x) => x.label)], ['l', ...records.map(() => 'r')], rows);
  }
  const rows = records.map(({ label, r }) => [label, ...columns.map((c) => METRICS[c].format(r[c]))]);
  return markdownTable([opts.label ?? 'method', ...columns.map((c) => METRICS[c].header)], ['l', ...columns.map(() => 'r')], rows);
}

/** `throughput`: `bench/throughput.ts`'s runs of `disco colorize`, one row per model and worker count. */
function throughputView(json) {
  const rows = json.results.map((r) => [`\`${r.model.replace(/ \(/, '` (')}${r.model.includes(' (') ? '' : '`'}`, String(r.workers), String(r.images), r.seconds.toFixed(1), r.imagesPerSecond.toFixed(2)]);
  return markdownTable(['model', 'workers', 'images', 'seconds', 'images/s'], ['l', 'r', 'r', 'r', 'r'], rows);
}

/** `parity`: `disco parity --json`'s rows, the largest difference per stage, stage by stage and chained. */
function parityView(json) {
  const stages = [];
  for (const r of json.rows) if (!stages.includes(r.stage)) stages.push(r.stage);
  const cell = (rows) => {
    if (rows.length === 0) return '—';
    if (rows.every((r) => r.mismatches !== null)) return `${rows.reduce((s, r) => s + r.mismatches, 0)} differ`;
    const max = Math.max(...rows.map((r) => r.maxAbs));
    return rows[0].stage === 'rgb_out' ? `${max} byte${max === 1 ? '' : 's'}` : sci(max);
  };
  // `exact (3 listed ties skipped)` in some cases and `exact` in others → `exact (listed ties skipped)`.
  const tolerance = (rows) => {
    const all = new Set(rows.map((r) => r.tolerance.replace(/^exact \(\d+ listed ties skipped\)$/, 'exact (listed ties skipped)')));
    if (all.has('exact (listed ties skipped)')) all.delete('exact');
    return [...all].join('; ');
  };
  const rows = stages.map((s) => {
    const of = json.rows.filter((r) => r.stage === s);
    return [`\`${s}\``, cell(of.filter((r) => r.mode === 'stage')), cell(of.filter((r) => r.mode === 'chain')), tolerance(of)];
  });
  const passed = json.rows.filter((r) => r.pass).length;
  const date = (json.run?.startedAt ?? '').slice(0, 10);
  return [
    ...markdownTable(['stage', 'stage by stage: max abs diff', 'chained from the input: max abs diff', 'tolerance'], ['l', 'r', 'r', 'l'], rows),
    '',
    `${passed} of ${json.rows.length} rows within tolerance, on \`${json.backend}\` (${date}, git ${String(json.run?.gitCommit ?? '?').slice(0, 7)}).`,
  ];
}

/** `side-by-side`: `bench/side_by_side.ts`'s medians (min–max) of ours and PyTorch, and the ratios. */
function sideBySideView(json) {
  const s = (x, d = 2) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
  const { ours, pytorch } = json.paperInferenceS;
  const torchName = String(json.paperInferenceS.pytorchFramework ?? 'PyTorch').replace(/^pytorch-(\d+\.\d+).*$/, 'PyTorch $1');
  const best = (side) => Object.entries(side).filter(([k]) => /^threads\d+$/.test(k)).sort((a, b) => a[1].median - b[1].median)[0];
  const [oursBestK, oursBest] = best(ours);
  const [torchBestK, torchBest] = best(pytorch);
  const rate = 1 / torchBest.median;
  const rows = [];
  for (const t of json.threadCounts) {
    const k = `threads${t}`;
    rows.push([`\`paper\` inference, one 256² image, ${t} thread${t === 1 ? '' : 's'}`, `${s(ours[k])} s`, `${s(pytorch[k])} s`, `${(ours[k].median / pytorch[k].median).toFixed(2)}×`]);
  }
  const thr = (k) => `${k.replace('threads', '')} thr`;
  rows.push(["`paper` inference, each side's best thread count", `${oursBest.median.toFixed(2)} s (${thr(oursBestK)})`, `${torchBest.median.toFixed(2)} s (${thr(torchBestK)})`, `**${(oursBest.median / torchBest.median).toFixed(2)}×**`]);
  if (ours.perConvolution) rows.push(['`paper` inference, per-convolution path (before whole networks), 2 threads', `${s(ours.perConvolution)} s`, '', '']);
  for (const [k, v] of Object.entries(json.colorizeImagesPerSecond)) {
    const w = Number(k.replace('workers', ''));
    rows.push([`\`disco colorize\` throughput, \`paper\` (random weights), ${json.images} photos 256², ${w} worker${w === 1 ? '' : 's'}`, `${s(v)} img/s`, `${rate.toFixed(3)} img/s (bare forward)`, `${(v.median / rate).toFixed(2)}× the rate`]);
  }
  return markdownTable(['measure', 'ours', torchName, 'ours / PyTorch'], ['l', 'r', 'r', 'r'], rows);
}

/**
 * `bench`: `nx run colorize:bench`'s `bench/results.json` (the `tiny` step and inference beside
 * PyTorch's faster thread count), with the `disco colorize` rate of `tiny` from the JSON that
 * `throughput=` names (`bench/throughput.json`).
 */
function benchView(json, opts, readJson) {
  const t = json.pytorch;
  const thr = (x) => `${x.bestThreads} thread${x.bestThreads === 1 ? '' : 's'}`;
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const rows = [
    ['`tiny` train step, batch 8, 64², one process', `${json.tinyStepS.toFixed(3)} s`, `${json.wasmOnly.tinyStepS.toFixed(3)} s`, `${t.tinyTrain.bestS.toFixed(3)} s (${thr(t.tinyTrain)})`, ratio(json.tinyStepS, t.tinyTrain.bestS)],
    ['`tiny` train step, 2 worker threads (`ParallelStage2Trainer`)', `${json.tinyStepWorkers2S.toFixed(3)} s`, '—', `${t.tinyTrain.bestS.toFixed(3)} s`, ratio(json.tinyStepWorkers2S, t.tinyTrain.bestS)],
    ['`tiny` inference, one 256² image', `${json.tinyInfer256S.toFixed(3)} s`, '—', `${t.tinyInfer256.bestS.toFixed(3)} s`, ratio(json.tinyInfer256S, t.tinyInfer256.bestS)],
  ];
  if (opts.throughput) {
    const tp = readJson(opts.throughput);
    const r = tp.ratioToPytorch.find((x) => x.model.startsWith('tiny'));
    const n = tp.results.find((x) => x.model.startsWith('tiny'))?.images;
    rows.push([`\`disco colorize\` throughput, embedded \`tiny\` (64²), ${n} images`, `${r.oursImagesPerSecond.toFixed(1)} img/s`, '—', `${r.pytorchImagesPerSecond.toFixed(1)} img/s`, ratio(r.oursImagesPerSecond, r.pytorchImagesPerSecond)]);
  }
  return markdownTable(['measure', 'ours', 'every kernel on wasm', 'PyTorch 1.13, best threads', 'ours / PyTorch'], ['l', 'r', 'r', 'r', 'r'], rows);
}

/**
 * `list`: one row per element of an array. Options: `at` (dotted path to the array), `fields`
 * (comma-separated keys), `headers` (`|`-separated column headers; default the keys), `digits`
 * (decimals of numeric cells; default 2), `where` (`key=value`: only the elements with it).
 */
function listView(json, opts) {
  const list = get(json, opts.at ?? '');
  if (!Array.isArray(list)) throw new Error(`no array at '${opts.at ?? ''}'`);
  if (!opts.fields) throw new Error('the list view needs fields=…');
  const fields = opts.fields.split(',');
  const headers = opts.headers ? opts.headers.split('|') : fields;
  if (headers.length !== fields.length) throw new Error(`${fields.length} fields but ${headers.length} headers`);
  const digits = Number(opts.digits ?? 2);
  const [wk, wv] = (opts.where ?? '').split('=');
  const rows = list
    .filter((x) => !opts.where || String(x[wk]) === wv)
    .map((x) => fields.map((f) => (typeof x[f] === 'number' ? x[f].toFixed(Number.isInteger(x[f]) ? 0 : digits) : (x[f] ?? ''))));
  const numeric = fields.map((f) => list.some((x) => typeof x[f] === 'number'));
  return markdownTable(headers, numeric.map((n) => (n ? 'r' : 'l')), rows);
}

/**
 * `fid-parity`: `disco-experiments parity --json`'s rows, the worst (largest measured / tolerance)
 * per stage, and per batch stage, with its case and mode.
 */
function fidParityView(json) {
  const groups = new Map();
  for (const r of json.rows) {
    const key = r.case === 'batch' ? `batch \`${r.stage}\`` : `\`${r.stage}\``;
    const worst = groups.get(key);
    if (!worst || r.value / r.tolerance > worst.value / worst.tolerance) groups.set(key, r);
  }
  // network order: a stage fed `from stored X` comes after X
  const depth = new Map(json.rows.map((r) => [r.stage, 0]));
  for (let pass = 0; pass < depth.size; pass++) {
    for (const r of json.rows) {
      const from = /^from stored (\S+)$/.exec(r.mode)?.[1];
      if (from && depth.has(from)) depth.set(r.stage, Math.max(depth.get(r.stage), depth.get(from) + 1));
    }
  }
  const order = ([, r]) => (r.case === 'batch' ? 1000 : 0) + depth.get(r.stage);
  const e = (v) => (v === 0 ? '0' : sci(v));
  const rows = [...groups].sort((a, b) => order(a) - order(b)).map(([key, r]) => [key, `${r.case}, ${r.mode}`, e(r.maxAbsDiff), e(r.meanAbsDiff), e(r.value), `${r.measure} ${e(r.tolerance)}`]);
  const passed = json.rows.filter((r) => r.pass).length;
  const date = (json.run?.startedAt ?? '').slice(0, 10);
  return [
    ...markdownTable(['stage', 'worst case, mode', 'max abs diff', 'mean abs diff', 'measured', 'tolerance'], ['l', 'l', 'r', 'r', 'r', 'r'], rows),
    '',
    `${passed} of ${json.rows.length} comparisons within tolerance, on \`${json.backend}\` (${date}, git ${String(json.run?.gitCommit ?? '?').slice(0, 7)}).`,
  ];
}

/** The renderers `view=` names. */
export const VIEWS = { rows: rowsView, parity: parityView, 'side-by-side': sideBySideView, throughput: throughputView, bench: benchView, list: listView, 'fid-parity': fidParityView };

/** The text between a table's markers, from its JSON: a newline, the lines, a newline. */
export function renderTable(attrs, readJson) {
  const { source, view, ...opts } = attrs;
  if (!source) throw new Error('no source=');
  const render = VIEWS[view];
  if (!render) throw new Error(`unknown view '${view}'; valid: ${Object.keys(VIEWS).join(', ')}`);
  return `\n${render(readJson(source), opts, readJson).join('\n')}\n`;
}

/**
 * Checks (or, with `write`, rewrites) the generated tables of one Markdown text.
 * Returns `{ text, problems }`: the text with every table as its JSON gives it, and one line per
 * table that differed or could not be rendered.
 */
export function checkMarkdown(markdown, file, readJson) {
  const problems = [];
  let out = '';
  let at = 0;
  let tables;
  try {
    tables = findTables(markdown);
  } catch (e) {
    return { text: markdown, problems: [`${file}: ${e.message}`] };
  }
  for (const t of tables) {
    const name = `${file}:${t.line}: the table from ${t.attrs.source ?? '?'} (view ${t.attrs.view ?? '?'})`;
    let body;
    try {
      body = renderTable(t.attrs, readJson);
    } catch (e) {
      problems.push(`${name}: ${e.message.split('\n')[0]}`);
      body = t.body;
    }
    if (body !== t.body) problems.push(`${name} differs from its JSON; run node scripts/docs.mjs --write`);
    out += markdown.slice(at, t.start) + body;
    at = t.end;
  }
  return { text: out + markdown.slice(at), problems };
}

/** Every tracked Markdown file of the repository at `root`. */
export function markdownFiles(root) {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.includes('node_modules/'));
}

/**
 * Checks every tracked Markdown file under `root`; with `write`, rewrites the tables that differ.
 * Returns the problem lines (with `write`, only those it could not fix).
 */
export function checkTables(root, { write = false } = {}) {
  const cache = new Map();
  const readJson = (source) => {
    if (!cache.has(source)) cache.set(source, JSON.parse(readFileSync(path.join(root, source), 'utf8')));
    return cache.get(source);
  };
  const problems = [];
  for (const file of markdownFiles(root)) {
    const full = path.join(root, file);
    const markdown = readFileSync(full, 'utf8');
    if (!markdown.includes('table:')) continue;
    const { text, problems: p } = checkMarkdown(markdown, file, readJson);
    if (write && text !== markdown) writeFileSync(full, text);
    problems.push(...(write ? p.filter((l) => !l.endsWith('--write')) : p));
  }
  return problems;
}
