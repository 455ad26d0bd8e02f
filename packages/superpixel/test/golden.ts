/** Loader of the shared golden vectors (`shared/testdata/superpixel-vectors.json`). */
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
/** Absolute path of the shared golden file. */
export const GOLDEN_PATH = path.resolve(here, '../../../../shared/testdata/superpixel-vectors.json');

/** All cases. */
export function loadGolden(): GoldenCase[] {
  return (JSON.parse(fs.readFileSync(GOLDEN_PATH, 'utf8')) as { cases: GoldenCase[] }).cases;
}
