/**
 * Loader of the golden vectors in `test/fixtures/superpixel-vectors.json`: exact pool, diffuse, sizes
 * and gradient values for random inputs from an independent reference implementation, copied
 * verbatim into the repository (sha256 `fb6789f8…a8a23`, checked in ops.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One case of the golden file. */
export interface GoldenCase {
  name: string;
  B: number;
  H: number;
  W: number;
  C: number;
  S: number;
  feat: number[];
  assoc: number[];
  sfeat: number[];
  pooled: number[];
  mass: number[];
  diffused: number[];
  sizes: number[];
  lossWeightsPooled?: number[];
  lossWeightsDiffused?: number[];
  gradFeat?: number[];
  gradAssoc?: number[];
  gradSfeat?: number[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Absolute path of the golden file. */
export const GOLDEN_PATH = path.resolve(here, 'fixtures', 'superpixel-vectors.json');

/** sha256 of the golden file as received from the reference implementation. */
export const GOLDEN_SHA256 = 'fb6789f8f1c644f8a0fff62084f22c7c28fa45340e9160214ec5e7bdfdca8a23';

/** All cases. */
export function loadGolden(): GoldenCase[] {
  return (JSON.parse(fs.readFileSync(GOLDEN_PATH, 'utf8')) as { cases: GoldenCase[] }).cases;
}
