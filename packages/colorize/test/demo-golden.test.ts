// The shipped models' outputs, byte for byte: both embedded models colorize the bundled demo photos
// (three variants each, anchors marked) to exactly the PNGs recorded in fixtures/demo-golden.json.
// It pins `--chroma-upsampling bilinear` (the raw network output, as recorded); the default guided
// filter is tested against its reference in guided.test.ts and banded.test.ts.
// A change of the code's shape must leave them identical; DISCO_RECORD_GOLDEN=1 re-records them
// (only for an intended change of the models' outputs, said in the commit).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDiscoCli } from '../src/cli/disco.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixture = path.join(here, 'fixtures', 'demo-golden.json');
const demo = path.join(here, '..', 'demo', 'grey');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-golden-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the embedded models on the demo photos (wasm convolutions)', { timeout: 600_000 }, () => {
  it('tiny and tiny-pf write the recorded PNG bytes for the 9 photos × 3 variants (sha256)', async () => {
    const io = { out: () => {}, err: () => {} };
    const conv = process.env.DISCO_CONV;
    process.env.DISCO_CONV = 'wasm'; // onnxruntime's kernels depend on the CPU; wasm's do not
    try {
      for (const model of ['tiny', 'tiny-pf']) {
        await runDiscoCli(['colorize', demo, '-o', path.join(dir, model), '--model', model, '--diverse', '--show-anchors', '--workers', '1', '--backend', 'wasm', '--chroma-upsampling', 'bilinear'], io);
      }
    } finally {
      if (conv === undefined) delete process.env.DISCO_CONV;
      else process.env.DISCO_CONV = conv;
    }
    const sums: Record<string, string> = {};
    for (const model of ['tiny', 'tiny-pf']) {
      for (const f of fs.readdirSync(path.join(dir, model)).filter((n) => n.endsWith('.png')).sort()) {
        sums[`${model}/${f}`] = createHash('sha256').update(fs.readFileSync(path.join(dir, model, f))).digest('hex');
      }
    }
    const stored = JSON.parse(fs.readFileSync(fixture, 'utf8')) as { about: string; sha256: Record<string, string> };
    if (process.env.DISCO_RECORD_GOLDEN === '1') fs.writeFileSync(fixture, `${JSON.stringify({ ...stored, sha256: sums }, null, 2)}\n`);
    expect(Object.keys(sums)).toHaveLength(2 * 9 * 3);
    expect(sums).toEqual(stored.sha256);
  });
});
