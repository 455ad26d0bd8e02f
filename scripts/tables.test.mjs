// Tests of the docs generator (scripts/tables.mjs, scripts/links.mjs): node --test scripts/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { anchorsOf, checkLinksOf, slug } from './links.mjs';
import { checkMarkdown, checkTables, findTables, parseAttributes, renderTable } from './tables.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const scores = {
  methods: {
    grey: { label: 'grey', meanError: 17.76, auc: 0.8791, colorfulness: 0, green: 0, red: 0 },
    disco: { label: 'DISCO', meanError: 21.064, auc: 0.85721, colorfulness: 31.24, green: 0.086, red: 0.054, fid2048: 0.521 },
  },
};
const readJson = (source) => {
  if (source === 'scores.json') return scores;
  throw new Error(`ENOENT: ${source}`);
};
const marker = '<!-- table:source=scores.json view=rows rows=grey,disco columns=meanError,auc,red bold=disco -->';
const generated = [
  '| method | mean ab error ↓ | AuC ↑ | red (a > 15) |',
  '|---|---:|---:|---:|',
  '| grey | 17.76 | 0.8791 | 0.0 % |',
  '| **DISCO** | 21.06 | 0.8572 | 5.4 % |',
].join('\n');
const doc = `# Results\n\n${marker}\n${generated}\n<!-- /table -->\n\nProse after.\n`;

test('parseAttributes reads key=value and key="a value"', () => {
  assert.deepEqual(parseAttributes('source=a.json view=rows label="the method"'), { source: 'a.json', view: 'rows', label: 'the method' });
  assert.throws(() => parseAttributes('source=a.json stray'), /cannot read 'stray'/);
});

test('findTables finds each table with its line, and refuses a marker without its end', () => {
  const t = findTables(doc);
  assert.equal(t.length, 1);
  assert.equal(t[0].line, 3);
  assert.equal(t[0].attrs.view, 'rows');
  assert.throws(() => findTables(`${marker}\n| a |\n`), /without its <!-- \/table -->/);
  assert.deepEqual(findTables('Tables between `<!-- table:source=<JSON> view=… -->` and `<!-- /table -->` are generated.\n'), []);
});

test('the rows view renders the named rows and columns with their formats', () => {
  assert.equal(renderTable(parseAttributes(marker.slice(11, -4)), readJson), `\n${generated}\n`);
});

test('a table as its JSON gives it passes', () => {
  assert.deepEqual(checkMarkdown(doc, 'doc.md', readJson).problems, []);
});

test('a table edited by hand fails with one line naming the file and the table, and is rewritten', () => {
  const edited = doc.replace('| 21.06 |', '| 21.00 |');
  const { text, problems } = checkMarkdown(edited, 'doc.md', readJson);
  assert.deepEqual(problems, ['doc.md:3: the table from scores.json (view rows) differs from its JSON; run node scripts/docs.mjs --write']);
  assert.equal(text, doc);
});

test('a JSON that changed makes the committed table fail', () => {
  const changed = (s) => (s === 'scores.json' ? { methods: { ...scores.methods, grey: { ...scores.methods.grey, meanError: 17.8 } } } : readJson(s));
  assert.equal(checkMarkdown(doc, 'doc.md', changed).problems.length, 1);
});

test('a missing JSON, view, row or column is one line naming it', () => {
  const p = (m) => checkMarkdown(`${m}\n<!-- /table -->\n`, 'x.md', readJson).problems;
  assert.match(p('<!-- table:source=nope.json view=rows rows=a columns=auc -->')[0], /^x\.md:1: the table from nope\.json \(view rows\): ENOENT/);
  assert.match(p('<!-- table:source=scores.json view=pie -->')[0], /unknown view 'pie'; valid: rows, parity, side-by-side, throughput, bench, list, fid-parity/);
  assert.match(p('<!-- table:source=scores.json view=rows rows=sepia columns=auc -->')[0], /no row 'sepia'/);
  assert.match(p('<!-- table:source=scores.json view=rows rows=grey columns=speed -->')[0], /unknown column 'speed'/);
});

test('the list view renders the chosen fields of each element, optionally filtered', () => {
  const json = { runs: [{ what: 'eigen', n: 1024, seconds: 1.4866 }, { what: 'FID', n: 1000, seconds: 6.99487 }] };
  const text = renderTable({ source: 'b.json', view: 'list', at: 'runs', fields: 'what,n,seconds', headers: 'what|n|s', digits: '1' }, () => json);
  assert.equal(text, '\n| what | n | s |\n|---|---:|---:|\n| eigen | 1024 | 1.5 |\n| FID | 1000 | 7.0 |\n');
  assert.match(renderTable({ source: 'b.json', view: 'list', at: 'runs', fields: 'what', where: 'what=FID' }, () => json), /\| FID \|\n$/);
});

test('the parity view gives the largest difference per stage and mode', () => {
  const row = (stage, mode, maxAbs, mismatches = null, tolerance = 'max ≤ 0.0001') => ({ case: 'c', stage, variant: null, mode, maxAbs, meanAbs: 0, mismatches, tolerance, pass: true });
  const json = {
    backend: 'wasm',
    run: { gitCommit: '085ee8455a6d', startedAt: '2026-12-07T17:36:26Z' },
    rows: [row('tokens', 'stage', 6.7e-6), row('tokens', 'stage', 1e-6), row('tokens', 'chain', 7.2e-6), row('anchor_bins', 'stage', null, 0, 'exact (3 listed ties skipped)'), row('rgb_out', 'chain', 1, null, '±1 per byte')],
  };
  const text = renderTable({ source: 'p.json', view: 'parity' }, () => json);
  assert.match(text, /\| `tokens` \| 6\.7e-06 \| 7\.2e-06 \| max ≤ 0\.0001 \|/);
  assert.match(text, /\| `anchor_bins` \| 0 differ \| — \| exact \(listed ties skipped\) \|/);
  assert.match(text, /\| `rgb_out` \| — \| 1 byte \| ±1 per byte \|/);
  assert.match(text, /5 of 5 rows within tolerance, on `wasm` \(2026-12-07, git 085ee84\)\./);
});

test('the fid-parity view gives the worst row per stage, in network order', () => {
  const row = (c, stage, mode, value, tolerance = 1e-4) => ({ case: c, stage, mode, maxAbsDiff: value, meanAbsDiff: value / 10, maxAbsRef: 1, measure: 'maxAbs', value, tolerance, pass: value <= tolerance });
  const json = { backend: 'wasm', run: { gitCommit: 'abcdef123', startedAt: '2026-12-07T19:00:00Z' }, rows: [row('a', 'pool3', 'end-to-end', 1e-5), row('a', 'pool3', 'from stored input299', 4e-5), row('b', 'input299', 'end-to-end', 0), row('batch', 'fid', 'end-to-end', 2e-5)] };
  const lines = renderTable({ source: 'f.json', view: 'fid-parity' }, () => json).trim().split('\n');
  assert.deepEqual(lines.slice(2, 5).map((l) => l.split(' | ')[0]), ['| `input299`', '| `pool3`', '| batch `fid`']);
  assert.match(lines[3], /a, from stored input299 \| 4\.0e-05/);
  assert.equal(lines.at(-1), '4 of 4 comparisons within tolerance, on `wasm` (2026-12-07, git abcdef1).');
});

test('every generated table in the repository equals its JSON', () => {
  assert.deepEqual(checkTables(root), []);
});

test('checkTables --write rewrites a table edited by hand in a repository', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'docs-tables-'));
  execFileSync('git', ['init', '-q'], { cwd: dir });
  writeFileSync(path.join(dir, 'scores.json'), JSON.stringify(scores));
  mkdirSync(path.join(dir, 'docs'));
  writeFileSync(path.join(dir, 'docs', 'r.md'), doc.replace('| 0.8791 |', '| 0.88 |'));
  assert.equal(checkTables(dir).length, 1);
  assert.deepEqual(checkTables(dir, { write: true }), []);
  assert.equal(readFileSync(path.join(dir, 'docs', 'r.md'), 'utf8'), doc);
  assert.deepEqual(checkTables(dir), []);
});

test('links: GitHub anchors, and a broken file or heading is named', () => {
  assert.equal(slug('Longer training, and the accuracy / color frontier'), 'longer-training-and-the-accuracy--color-frontier');
  assert.ok(anchorsOf('## Frozen pretrained features (`pretrainedFeatures`, extension)\n').has('frozen-pretrained-features-pretrainedfeatures-extension'));
  const dir = mkdtempSync(path.join(tmpdir(), 'docs-links-'));
  writeFileSync(path.join(dir, 'a.md'), '# A\n\n[b](b.md#two) [gone](c.md) [bad](b.md#three) [web](https://x.org/y) [self](#a) `[code](nope.md)`\n');
  writeFileSync(path.join(dir, 'b.md'), '# B\n\n## Two\n');
  assert.deepEqual(checkLinksOf(dir, 'a.md'), ['a.md: link to c.md: no such file', 'a.md: link to b.md#three: no heading #three']);
});
