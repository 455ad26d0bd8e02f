// Bad inputs, one table: what a hostile but fair user feeds `disco` (damaged images, models,
// checkpoints, hints, flags, training photos) and the one line each must produce.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '@disco/runtime/node';
import { runDiscoCli } from '../src/cli/disco.js';
import type { CliIo } from '@disco/superpixel/node';
import { PhotoDataset } from '@disco/photos';
import { embeddedModelDir } from '../src/io/model_files.js';

let dir = '';
let good = '';
const lines: string[] = [];
let trainLines: string[] = [];
let run = '';
let photos = '';

async function colorful(file: string, seed: number, w = 80, h = 72): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set([(i * 7 + seed * 40) % 256, (i * 3) % 256, 128 + seed * 9], 3 * i);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** A copy of the embedded model folder with `edit` applied to its files. */
function modelWith(name: string, edit: (json: Record<string, unknown>, weights: Buffer) => { json?: unknown; weights?: Buffer }): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  const json = JSON.parse(fs.readFileSync(path.join(embeddedModelDir('tiny'), 'disco-model.json'), 'utf8')) as Record<string, unknown>;
  const r = edit(json, fs.readFileSync(path.join(embeddedModelDir('tiny'), 'weights.bin')));
  fs.writeFileSync(path.join(d, 'disco-model.json'), JSON.stringify(r.json ?? json));
  fs.writeFileSync(path.join(d, 'weights.bin'), r.weights ?? fs.readFileSync(path.join(embeddedModelDir('tiny'), 'weights.bin')));
  return d;
}

/** A copy of the training run with one checkpoint file cut to `keep` bytes. */
function truncatedRun(name: string, file: string, keep: number): string {
  const d = path.join(dir, name);
  fs.cpSync(run, d, { recursive: true });
  const f = path.join(d, 'checkpoint', file);
  fs.writeFileSync(f, fs.readFileSync(f).subarray(0, keep));
  return d;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-bad-'));
  good = path.join(dir, 'good.png');
  await colorful(good, 1);
  // Training photos with one corrupt photo and exactly one validation photo, which is near-grey:
  // the split is a seeded hash of the name, so find names on each side first.
  photos = path.join(dir, 'photos');
  fs.mkdirSync(photos);
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(photos, `q${i}.png`), '');
  const val = new Set((await PhotoDataset.create({ sources: [photos], split: 'validation' })).files);
  const names = fs.readdirSync(photos).map((f) => path.join(photos, f));
  const train = names.filter((f) => !val.has(f)).slice(0, 9);
  for (const f of names) if (!train.includes(f) && f !== [...val][0]) fs.rmSync(f);
  for (const [k, f] of train.slice(0, 8).entries()) await colorful(f, k);
  fs.writeFileSync(train[8]!, 'not a png'); // the corrupt training photo
  await sharp(good).grayscale().toFile(`${[...val][0]!}.tmp.png`);
  fs.renameSync(`${[...val][0]!}.tmp.png`, [...val][0]!);
  run = path.join(dir, 'run');
  const io: CliIo = { out: (l) => void trainLines.push(l), err: (l) => void trainLines.push(l) };
  trainLines = [];
  await runDiscoCli(['train', '--config', 'tiny', '--data', photos, '--out', run, '--steps', '1', '--batch-size', '2', '--perceptual', 'none', '--validate-every', '1', '--backend', 'wasm'], io);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Row {
  /** What is wrong. */
  name: string;
  /** The command line (built once the fixtures exist). */
  argv: () => string[];
  /** The file-system layer, when the fault cannot be made with real files (root ignores permissions). */
  fs?: () => FaultyFileSystem;
  /** The command fails with this one-line message… */
  throws?: RegExp;
  /** …or reports this line (the batch going on; exit status 2). */
  line?: RegExp;
}

const col = (inputs: string[], extra: string[] = []) => ['colorize', ...inputs, '-o', path.join(dir, 'out'), '--backend', 'wasm', ...extra];
const fixture = (name: string, content: string | Buffer): string => {
  const f = path.join(dir, name);
  if (!fs.existsSync(f)) fs.writeFileSync(f, content);
  return f;
};
const truncatedPng = (): string => fixture('truncated.png', fs.readFileSync(good).subarray(0, 200));

const ROWS: Row[] = [
  // images (reported by name; the batch goes on)
  { name: 'a corrupt image', argv: () => col([fixture('corrupt.png', 'not a png at all'), good]), line: /^colorize: readImage: .*corrupt\.png: .*(unsupported image format|corrupt|bad)/i },
  { name: 'an empty file', argv: () => col([fixture('empty.png', ''), good]), line: /^colorize: readImage: .*empty\.png: empty file$/ },
  { name: 'a truncated PNG', argv: () => col([truncatedPng(), good]), line: /^colorize: readImage: .*truncated\.png: \S/ },
  { name: 'a text file named .jpg', argv: () => col([fixture('text.jpg', 'hello\n'), good]), line: /^colorize: readImage: .*text\.jpg: \S/ },
  { name: 'a missing file', argv: () => col([path.join(dir, 'missing.png'), good]), line: /^colorize: readImage: .*missing\.png: no such file$/ },
  { name: 'a file without read permission', argv: () => col([fixture('secret.png', fs.readFileSync(good)), good]), fs: () => new FaultyFileSystem({ unreadable: (p) => p.endsWith('secret.png') }), line: /^colorize: readImage: .*secret\.png: cannot read \(EACCES: permission denied\)$/ },
  { name: '--mode pad on an image above the token limit', argv: () => col([path.join(dir, 'wide.png'), good], ['--mode', 'pad']), line: /^colorize: .*wide\.png: --mode pad: 6000×40 px is 4500 superpixels, above the limit of 4096/ },
  { name: '--mode pad on a 16 px image', argv: () => col([path.join(dir, 'small.png'), good], ['--mode', 'pad']), line: /^colorize: .*small\.png: --mode pad: 16×16 px gives 4 superpixels, fewer than the 8 anchors/ },
  // models
  { name: 'a model JSON without weightSpecs', argv: () => col([good], ['--model', modelWith('m-specs', (j) => ({ json: { ...j, weightSpecs: undefined } }))]), throws: /^--model: .*m-specs\/disco-model\.json: missing 'weightSpecs' \(a list\)$/ },
  { name: 'a model JSON without config', argv: () => col([good], ['--model', modelWith('m-config', (j) => ({ json: { ...j, config: undefined } }))]), throws: /^--model: .*m-config\/disco-model\.json: missing 'config' \(an object\)$/ },
  { name: 'a model JSON that is not JSON', argv: () => col([good], ['--model', modelWith('m-json', () => ({ json: 'x' }))]), throws: /^--model: .*m-json\/disco-model\.json: not a DISCO model/ },
  { name: 'truncated model weights', argv: () => col([good], ['--model', modelWith('m-trunc', (_j, w) => ({ weights: w.subarray(0, 1000) }))]), throws: /^--model: .*m-trunc\/weights\.bin: 1000 bytes, disco-model\.json needs \d+ \(truncated or from another model\)$/ },
  { name: 'all-NaN weights', argv: () => col([good], ['--model', modelWith('m-nan', (j, w) => ({ json: { ...j, weightsSha256: undefined }, weights: Buffer.from(new Float32Array(w.length / 4).fill(NaN).buffer) }))]), throws: /^--model: .*m-nan\/weights\.bin: \d+ of \d+ weights are not finite \(NaN or Infinity\), first in '.+'; the model cannot be used$/ },
  { name: 'byte-flipped (finite) model weights', argv: () => col([good], ['--model', modelWith('m-flip', (_j, w) => { const c = Buffer.from(w); c[4096] = c[4096]! ^ 1; return { weights: c }; })]), throws: /^--model: .*m-flip\/weights\.bin: sha256 [0-9a-f]{16}… differs from the [0-9a-f]{16}… recorded in disco-model\.json \(damaged or replaced\)$/ },
  { name: 'a model config with anchors -3', argv: () => col([good], ['--model', modelWith('m-anchors', (j) => ({ json: { ...j, config: { ...(j.config as object), anchors: -3 } } }))]), throws: /^--model: .*m-anchors\/disco-model\.json: config: .*anchors.*-3/ },
  { name: 'a missing model folder (the valid names listed)', argv: () => col([good], ['--model', path.join(dir, 'nomodel')]), throws: /^--model: '.*nomodel' does not exist; valid: tiny, tiny-pf \(embedded\), a model folder with disco-model\.json \+ weights\.bin \(`disco export --run <run>` makes one from a training run\), or a published DISCO checkpoint file \(\.pth \/ \.pth\.tar\)$/ },
  { name: 'a folder without a model', argv: () => col([good], ['--model', dir]), throws: /^--model: no disco-model\.json in '.*'$/ },
  // hints and flags
  { name: 'an unknown key in an --anchors-file entry', argv: () => col([good], ['--anchors-file', fixture('hints-key.json', JSON.stringify({ '*': [{ row: 1, col: 2, ab: [10, 10], colour: 'red' }] }))]), throws: /^--anchors-file: .*hints-key\.json: '\*'\[0\]: unknown key 'colour'; valid: row, col, ab$/ },
  { name: 'an --anchors-file that is not JSON', argv: () => col([good], ['--anchors-file', fixture('hints-bad.json', '{ "*": [')]), throws: /^--anchors-file: .*hints-bad\.json: / },
  { name: 'an --anchors-file naming no input (warned, not fatal)', argv: () => col([good], ['--anchors-file', fixture('hints-name.json', JSON.stringify({ 'goood.png': [{ row: 1, col: 2, ab: [10, 10] }] }))]), line: /^colorize: warning: --anchors-file: 'goood\.png' names no input image/ },
  { name: '--mode foo', argv: () => col([good], ['--mode', 'foo']), throws: /^--mode must be resize or pad; got 'foo'$/ },
  { name: '--chroma-upsampling bicubic', argv: () => col([good], ['--chroma-upsampling', 'bicubic']), throws: /^--chroma-upsampling must be guided or bilinear; got 'bicubic'$/ },
  { name: 'more anchors than superpixels', argv: () => col([good], ['--anchors', '100']), throws: /^--anchors: 100 is more than the 64 superpixels of the model's 64² input$/ },
  // training and checkpoints
  { name: 'a truncated checkpoint weights.bin', argv: () => ['train', '--config', 'tiny', '--data', photos, '--out', truncatedRun('r-w', 'weights.bin', 4096), '--resume', '--perceptual', 'none', '--backend', 'wasm'], throws: /^--resume: checkpoint .*r-w\/checkpoint is damaged: .*r-w\/checkpoint\/weights\.bin: 4096 bytes, the checkpoint recorded \d+ \(truncated or damaged\)$/ },
  { name: 'a truncated checkpoint state.json', argv: () => ['train', '--config', 'tiny', '--data', photos, '--out', truncatedRun('r-s', 'state.json', 100), '--resume', '--perceptual', 'none', '--backend', 'wasm'], throws: /^--resume: checkpoint .*r-s\/checkpoint is damaged: .*r-s\/checkpoint\/state\.json: not valid JSON \(truncated or damaged\)/ },
  { name: '--resume without a checkpoint', argv: () => ['train', '--config', 'tiny', '--data', photos, '--out', path.join(dir, 'r-none'), '--resume', '--perceptual', 'none', '--backend', 'wasm'], throws: /^--resume: no checkpoint in '.*r-none\/checkpoint'$/ },
  { name: 'a missing --spixnet folder', argv: () => ['train', '--config', 'tiny', '--data', photos, '--out', path.join(dir, 'r-sp'), '--spixnet', path.join(dir, 'nospix'), '--perceptual', 'none', '--backend', 'wasm'], throws: /^--spixnet: '.*nospix' does not exist$/ },
  { name: 'a --spixnet folder without a model', argv: () => ['train', '--config', 'tiny', '--data', photos, '--out', path.join(dir, 'r-sp2'), '--spixnet', dir, '--perceptual', 'none', '--backend', 'wasm'], throws: /^--spixnet: no model\.json \(SPixNet\) or disco-model\.json \(DISCO model\) in '/ },
];

describe('bad inputs (table)', () => {
  beforeAll(async () => {
    await colorful(path.join(dir, 'wide.png'), 2, 6000, 40);
    await colorful(path.join(dir, 'small.png'), 3, 16, 16);
  });

  for (const row of ROWS) {
    it(row.name, async () => {
      lines.length = 0;
      const io: CliIo = { out: (l) => void lines.push(l), err: (l) => void lines.push(l), ...(row.fs ? { fs: row.fs() } : {}) };
      const err = await runDiscoCli(row.argv(), io).then(
        () => null,
        (e: Error) => e,
      );
      if (row.throws) {
        expect(err?.message).toMatch(row.throws);
        expect(err!.message.split('\n')).toHaveLength(1);
      } else {
        expect(err).toBeNull();
        const hit = lines.find((l) => row.line!.test(l));
        expect(hit, lines.join('\n')).toBeDefined();
        expect(hit!.split('\n')).toHaveLength(1);
        if (!/warned/.test(row.name)) {
          expect(process.exitCode).toBe(2);
          expect(lines.at(-1)).toMatch(/^colorized 1\/2 images into .* \(1 failed\)$/);
        }
        process.exitCode = 0;
      }
    });
  }

  it('a corrupt training photo is skipped and named; a near-grey single validation photo logs no `undefined`', () => {
    expect(trainLines.find((l) => l.startsWith('train: warning: skipping '))).toMatch(/^train: warning: skipping .*\.png: .* \(1 of 9 training photos unreadable so far\)$/);
    expect(trainLines).toContain('validate step 1: no validation batch (1 validation image(s): 1 near-grey, 0 unreadable); not logged');
    expect(trainLines.join('\n')).not.toMatch(/undefined/);
    expect(fs.existsSync(path.join(run, 'model', 'weights.bin'))).toBe(true);
  });
});
