import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleStateDict } from '../src/index.js';
import { readRuleStateDict } from '../src/node.js';

// The first entry of the published-DISCO parity fixture (seed 0): its first six float32 values are
// given in the fixture's README (section 1.2) as bit patterns.
const conv0a = { key: 'segnet.net.conv0a.0.weight', shape: [16, 1, 3, 3], dtype: 'float32', numel: 144, kind: 'rule', drawOffset: 0, offset: 0, scale: 0.19802950859533486 };
const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length), (b) => `0x${b.toString(16).padStart(8, '0')}`);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('ruleStateDict', () => {
  it('regenerates the fixture example bit for bit: [16,1,3,3] from draws 0…143, Math.fround(offset + scale·(2u − 1))', () => {
    const sd = ruleStateDict({ seed: 0, entries: [conv0a] }, new Uint8Array(0));
    const t = sd.get(conv0a.key)!;
    expect(t.shape).toEqual([16, 1, 3, 3]);
    expect(t.dtype).toBe('float32');
    const v = t.toFloat32();
    expect(v.length).toBe(144);
    expect(bits(v.subarray(0, 6))).toEqual(['0xbdbd74bd', '0xbe4aa603', '0xbde07649', '0xbe0f7ce2', '0xbc5402c2', '0x3c922996']);
  });

  it('reads explicit entries from their byte offsets and gives int64 zero counters; a later entry starts at its own draw offset', () => {
    const explicit = new Float32Array([9, 1.5, -2.25, 7]);
    const index = {
      seed: 3,
      entries: [
        { key: 'a', shape: [2], dtype: 'float32', numel: 2, kind: 'rule', drawOffset: 0, offset: 1, scale: 0.5 },
        { key: 'b.running_mean', shape: [2], dtype: 'float32', numel: 2, kind: 'explicit', byteOffset: 4, byteLength: 8 },
        { key: 'b.num_batches_tracked', shape: [], dtype: 'int64', numel: 1, kind: 'zero' },
        { key: 'c', shape: [3], dtype: 'float32', numel: 3, kind: 'rule', drawOffset: 2, offset: 0, scale: 2 },
      ],
    };
    const sd = ruleStateDict(index, new Uint8Array(explicit.buffer));
    expect([...sd.keys()]).toEqual(['a', 'b.running_mean', 'b.num_batches_tracked', 'c']);
    expect(Array.from(sd.get('b.running_mean')!.toFloat32())).toEqual([1.5, -2.25]);
    const zero = sd.get('b.num_batches_tracked')!;
    expect([zero.dtype, zero.shape, zero.bytes.length]).toEqual(['int64', [], 8]);
    // 'c' continues the same stream at draw 2: the same numbers as one entry of 5 draws, last three.
    const whole = ruleStateDict({ seed: 3, entries: [{ key: 'w', shape: [5], dtype: 'float32', numel: 5, kind: 'rule', drawOffset: 0, offset: 0, scale: 2 }] }, new Uint8Array(0));
    expect(Array.from(sd.get('c')!.toFloat32())).toEqual(Array.from(whole.get('w')!.toFloat32().subarray(2)));
  });

  it('rejects a malformed index with one line naming the entry', () => {
    expect(() => ruleStateDict({ seed: 0 }, new Uint8Array(0))).toThrow(/no `entries` array/);
    expect(() => ruleStateDict({ seed: 0, entries: [{ ...conv0a, numel: 3 }] }, new Uint8Array(0))).toThrow(/entry 'segnet.net.conv0a.0.weight': numel 3 does not match its shape/);
    expect(() => ruleStateDict({ seed: 0, entries: [{ key: 'x', shape: [4], dtype: 'float32', numel: 4, kind: 'explicit', byteOffset: 0, byteLength: 16 }] }, new Uint8Array(8))).toThrow(/entry 'x': bytes 0–16 lie beyond the explicit file \(8 bytes\)/);
  });
});

describe('readRuleStateDict', () => {
  it('verifies every entry against its sha256 and names the key that differs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rule-'));
    const good = ruleStateDict({ seed: 0, entries: [conv0a] }, new Uint8Array(0)).get(conv0a.key)!;
    writeFileSync(path.join(dir, 'explicit.bin'), new Uint8Array(0));
    writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ seed: 0, entries: [{ ...conv0a, sha256: sha(good.bytes) }] }));
    const sd = await readRuleStateDict(dir);
    expect(sd.get(conv0a.key)!.toFloat32()).toEqual(good.toFloat32());
    writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ seed: 1, entries: [{ ...conv0a, sha256: sha(good.bytes) }] }));
    await expect(readRuleStateDict(dir)).rejects.toThrow(/weights\.json: entry 'segnet\.net\.conv0a\.0\.weight' regenerates to sha256 [0-9a-f]{12}…, the index says/);
    await expect(readRuleStateDict(path.join(dir, 'nope'))).rejects.toThrow(/nope\/weights\.json: not found/);
  });
});
