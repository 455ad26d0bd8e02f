/**
 * Node side of the rule weights ({@link ruleStateDict}): reads a fixture folder's `weights.json`
 * and `explicit.bin` and checks every regenerated entry against its sha256.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ruleStateDict, type RuleStateTensor } from '../rule_weights.js';

/**
 * Regenerates the state dict of a rule-weights folder (`weights.json` + the explicit file it
 * names, `explicit.bin` by default) with {@link ruleStateDict}. With `verify` (default true) each
 * entry's bytes must hash to the index's sha256; a mismatch is one line naming the folder and key.
 *
 * @param dir A folder in the format of the parity fixtures (`weights.json`, `explicit.bin`).
 * @param options `verify`: check every entry's sha256 (default true).
 * @returns Tensors by state-dict key, in index order.
 *
 * @example
 * ```ts
 * const sd = await readRuleStateDict('test/fixtures/official-disco');
 * ```
 */
export async function readRuleStateDict(dir: string, options: { verify?: boolean } = {}): Promise<Map<string, RuleStateTensor>> {
  const indexPath = path.join(dir, 'weights.json');
  let index: { explicitFile?: string };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as { explicitFile?: string };
  } catch (e) {
    throw new Error(`${indexPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (a rule-weights folder holds weights.json and explicit.bin)' : (e as Error).message}`);
  }
  const explicitPath = path.join(dir, index.explicitFile ?? 'explicit.bin');
  let explicit: Buffer;
  try {
    explicit = await readFile(explicitPath);
  } catch (e) {
    throw new Error(`${explicitPath}: ${(e as Error).message}`);
  }
  let sd: Map<string, RuleStateTensor>;
  try {
    sd = ruleStateDict(index, new Uint8Array(explicit.buffer, explicit.byteOffset, explicit.byteLength));
  } catch (e) {
    throw new Error(`${indexPath}: ${(e as Error).message}`);
  }
  if (options.verify ?? true) {
    for (const t of sd.values()) {
      if (t.sha256 === undefined) continue;
      const got = createHash('sha256').update(t.bytes).digest('hex');
      if (got !== t.sha256) throw new Error(`${indexPath}: entry '${t.key}' regenerates to sha256 ${got.slice(0, 12)}…, the index says ${t.sha256.slice(0, 12)}…`);
    }
  }
  return sd;
}
