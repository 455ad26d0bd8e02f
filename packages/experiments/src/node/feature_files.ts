/**
 * Feature files of `eval-fid`: the per-image features of one run or one shard (`--features-out`),
 * an incremental JSONL beside them that a restarted run resumes from, and the merge of several
 * shards' files (`--features-in`) into the two sets a single process would have extracted.
 */
import * as fs from 'node:fs';
import { appendLine, writeFileAtomic, writeJsonAtomic, type InputFile } from '@disco/runtime/node';
import type { ImageSetFeatures } from './eval_fid.js';
import type { FeatureNetwork } from './inception.js';

/** What a feature file records of its network: enough to label and score without loading it. */
export type FeatureNetworkInfo = Pick<FeatureNetwork, 'name' | 'caveat' | 'inputSize' | 'layers' | 'classes' | 'isUnavailableReason' | 'comparableWithPublished' | 'weightsSha256' | 'preprocessing'>;

/** One set's features together with each row's place in the full (unsharded) input list. */
export interface IndexedSetFeatures extends ImageSetFeatures {
  /** Relative path of each row (what `--shard` hashes). */
  rels: string[];
  /** Position of each row in the full input list of the set. */
  indices: number[];
  /** Length of the full input list (all shards together). */
  total: number;
  /** Positions of the skipped images in the full list (same order as `skipped`). */
  skippedIndices: number[];
}

/** The network facts of `network`. */
export function networkInfo(network: FeatureNetwork): FeatureNetworkInfo {
  return {
    name: network.name,
    caveat: network.caveat,
    inputSize: network.inputSize,
    layers: network.layers,
    classes: network.classes,
    isUnavailableReason: network.isUnavailableReason,
    ...(network.comparableWithPublished !== undefined ? { comparableWithPublished: network.comparableWithPublished } : {}),
    ...(network.weightsSha256 !== undefined ? { weightsSha256: network.weightsSha256 } : {}),
    ...(network.preprocessing !== undefined ? { preprocessing: network.preprocessing } : {}),
  };
}

/** A {@link FeatureNetwork} that only labels scores (for features read from files); `infer` throws. */
export function labelOnlyNetwork(info: FeatureNetworkInfo): FeatureNetwork {
  return {
    ...info,
    infer: () => {
      throw new Error(`network ${info.name}: features were read from files; no network is loaded`);
    },
    dispose: () => {},
  };
}

function rows(data: ArrayLike<number>, d: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length / d; i++) out.push(Array.from({ length: d }, (_, j) => data[i * d + j]!));
  return out;
}

/** Writes a features file (JSON): per set the files, relative paths, list positions, colorfulness, features per layer, probabilities and skipped images. */
export function writeFeatureFile(file: string, info: FeatureNetworkInfo, sets: { real: IndexedSetFeatures; fake: IndexedSetFeatures }, shard: string | null): void {
  const dump = (s: IndexedSetFeatures): object => ({
    total: s.total,
    files: s.files,
    rels: s.rels,
    indices: s.indices,
    colorfulness: s.colorfulness,
    skipped: s.skipped.map((k, i) => ({ ...k, index: s.skippedIndices[i] })),
    ...Object.fromEntries(info.layers.map((l, k) => [l.key, rows(s.features[k]!.data, l.dims)])),
    probs: s.probs === null ? null : rows(s.probs.data, s.probs.cols),
  });
  writeJsonAtomic(file, { network: info.name, networkInfo: info, layers: info.layers, shard, real: dump(sets.real), fake: dump(sets.fake) });
}

/** One image's line in the incremental features file. */
interface ImageLine {
  set: 'real' | 'fake';
  file: string;
  /** sha256 of the image file's bytes when it was extracted. */
  sha256?: string | null;
  colorfulness?: number;
  features?: number[][];
  probs?: number[] | null;
  skipped?: string;
}

/**
 * The incremental features file (`<name>.jsonl`): a header line naming the network and its
 * preprocessing, then one line per finished image with the sha256 of the image's bytes. A
 * restarted run keeps the lines of the same network and preprocessing whose image is unchanged
 * (a torn last line is skipped) and extracts only the rest.
 */
export class FeatureJournal {
  private readonly done = new Map<string, ImageLine>();

  /**
   * Opens `file`; with `fresh` (or another network's or preprocessing's header) it starts empty.
   * `identity` is whatever else determines the features (e.g. the network file's sha256, its input range).
   */
  constructor(
    readonly file: string,
    info: FeatureNetworkInfo,
    fresh: boolean,
    identity: Record<string, unknown> = {},
  ) {
    const header = JSON.stringify({ network: info.name, layers: info.layers, inputSize: info.inputSize, classes: info.classes, weightsSha256: info.weightsSha256 ?? null, preprocessing: info.preprocessing ?? null, identity });
    const kept: string[] = [];
    if (!fresh && fs.existsSync(file)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      if (lines[0] === header) {
        for (const l of lines.slice(1)) {
          try {
            const e = JSON.parse(l) as ImageLine;
            this.done.set(`${e.set}\n${e.file}`, e);
            kept.push(l);
          } catch {
            // a torn last line
          }
        }
      }
    }
    writeFileAtomic(file, [header, ...kept].map((l) => `${l}\n`).join(''));
  }

  /** How many images of `set` are already done. */
  count(set: 'real' | 'fake'): number {
    return [...this.done.values()].filter((e) => e.set === set).length;
  }

  /** `done` when `file` of `set` was extracted from the bytes with this sha256, `changed` when from other bytes, else `todo`. */
  state(set: 'real' | 'fake', file: string, sha256: string | null): 'done' | 'changed' | 'todo' {
    const e = this.done.get(`${set}\n${file}`);
    if (!e) return 'todo';
    return sha256 !== null && e.sha256 === sha256 ? 'done' : 'changed';
  }

  /** Whether `file` of `set` was extracted from the bytes with this sha256. */
  has(set: 'real' | 'fake', file: string, sha256: string | null): boolean {
    return this.state(set, file, sha256) === 'done';
  }

  /** Records a finished image (`sha256`: of the bytes it was extracted from). */
  add(set: 'real' | 'fake', file: string, features: Float32Array[], probs: Float32Array | null, colorfulness: number, sha256: string | null = null): void {
    const e: ImageLine = { set, file, sha256, colorfulness, features: features.map((f) => Array.from(f)), probs: probs === null ? null : Array.from(probs) };
    this.done.set(`${set}\n${file}`, e);
    appendLine(this.file, JSON.stringify(e));
  }

  /** Records an image that could not be decoded. */
  addSkipped(set: 'real' | 'fake', file: string, error: string, sha256: string | null = null): void {
    const e: ImageLine = { set, file, sha256, skipped: error };
    this.done.set(`${set}\n${file}`, e);
    appendLine(this.file, JSON.stringify(e));
  }

  /** The features of `inputs` (all must be done), in their order, with their positions in the full list. */
  collect(set: 'real' | 'fake', inputs: readonly (InputFile & { index: number })[], total: number, info: FeatureNetworkInfo, seconds: number): IndexedSetFeatures {
    const dims = info.layers.map((l) => l.dims);
    const kept = inputs.filter((f) => this.done.get(`${set}\n${f.file}`)!.skipped === undefined);
    const skipped = inputs.filter((f) => this.done.get(`${set}\n${f.file}`)!.skipped !== undefined);
    const feats = dims.map((d) => new Float32Array(kept.length * d));
    const probs = info.classes > 0 ? new Float32Array(kept.length * info.classes) : null;
    kept.forEach((f, r) => {
      const e = this.done.get(`${set}\n${f.file}`)!;
      dims.forEach((d, k) => feats[k]!.set(e.features![k]!, r * d));
      if (probs !== null && e.probs) probs.set(e.probs, r * info.classes);
    });
    return {
      files: kept.map((f) => f.file),
      rels: kept.map((f) => f.rel),
      indices: kept.map((f) => f.index),
      total,
      features: feats.map((data, k) => ({ rows: kept.length, cols: dims[k]!, data })),
      probs: probs === null ? null : { rows: kept.length, cols: info.classes, data: probs },
      colorfulness: kept.map((f) => this.done.get(`${set}\n${f.file}`)!.colorfulness!),
      seconds,
      skipped: skipped.map((f) => ({ file: f.file, error: this.done.get(`${set}\n${f.file}`)!.skipped! })),
      skippedIndices: skipped.map((f) => f.index),
    };
  }
}

interface DumpedSet {
  total: number;
  files: string[];
  rels: string[];
  indices: number[];
  colorfulness: number[];
  skipped: { file: string; error: string; index: number }[];
  probs: number[][] | null;
  [layer: string]: unknown;
}

/**
 * Reads and merges shards' feature files: rows are put back in the order of the full input list
 * (so the merged sets equal those one process extracts), and every position of each set must be
 * present exactly once — as a row or a skipped image — or the merge stops with one line naming
 * the problem (a missing shard, a file given twice, another network).
 */
export function mergeFeatureFiles(paths: readonly string[], flag = '--features-in'): { info: FeatureNetworkInfo; real: IndexedSetFeatures; fake: IndexedSetFeatures } {
  if (paths.length === 0) throw new Error(`${flag}: no feature files`);
  let info: FeatureNetworkInfo | null = null;
  const parts: Record<'real' | 'fake', { file: string; set: DumpedSet }[]> = { real: [], fake: [] };
  for (const p of paths) {
    let j: { networkInfo?: FeatureNetworkInfo; real?: DumpedSet; fake?: DumpedSet };
    try {
      j = JSON.parse(fs.readFileSync(p, 'utf8')) as typeof j;
    } catch (e) {
      throw new Error(`${flag}: ${p}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!j.networkInfo || !j.real?.indices || !j.fake?.indices) throw new Error(`${flag}: ${p}: not an eval-fid features file with list positions (written by eval-fid --features-out)`);
    if (info === null) info = j.networkInfo;
    else if (JSON.stringify(info) !== JSON.stringify(j.networkInfo)) throw new Error(`${flag}: ${p}: network ${j.networkInfo.name} differs from ${info.name} of ${paths[0]}`);
    parts.real.push({ file: p, set: j.real });
    parts.fake.push({ file: p, set: j.fake });
  }
  const net = info!;
  const merge = (name: 'real' | 'fake'): IndexedSetFeatures => {
    const total = parts[name][0]!.set.total;
    const owner = new Map<number, string>();
    type Row = { index: number; file: string; rel: string; cf: number; feats: number[][]; probs: number[] | null };
    const all: Row[] = [];
    const skipped: { file: string; error: string; index: number }[] = [];
    for (const { file, set } of parts[name]) {
      if (set.total !== total) throw new Error(`${flag}: ${file}: its ${name} list has ${set.total} images, ${parts[name][0]!.file}'s ${total}: not shards of one run`);
      const claim = (index: number, what: string): void => {
        const prev = owner.get(index);
        if (prev !== undefined) throw new Error(`${flag}: ${name} image ${what} is in both ${prev} and ${file}`);
        owner.set(index, file);
      };
      set.indices.forEach((index, r) => {
        claim(index, `'${set.rels[r]}'`);
        all.push({ index, file: set.files[r]!, rel: set.rels[r]!, cf: set.colorfulness[r]!, feats: net.layers.map((l) => (set[l.key] as number[][])[r]!), probs: set.probs ? set.probs[r]! : null });
      });
      for (const s of set.skipped) {
        claim(s.index, `'${s.file}'`);
        skipped.push(s);
      }
    }
    if (owner.size !== total) throw new Error(`${flag}: ${name} has ${owner.size} of ${total} images across ${paths.length} file(s); a shard's features file is missing`);
    all.sort((a, b) => a.index - b.index);
    skipped.sort((a, b) => a.index - b.index);
    const dims = net.layers.map((l) => l.dims);
    const feats = dims.map((d) => new Float32Array(all.length * d));
    const probs = net.classes > 0 ? new Float32Array(all.length * net.classes) : null;
    all.forEach((row, r) => {
      dims.forEach((d, k) => feats[k]!.set(row.feats[k]!, r * d));
      if (probs !== null && row.probs) probs.set(row.probs, r * net.classes);
    });
    return {
      files: all.map((r) => r.file),
      rels: all.map((r) => r.rel),
      indices: all.map((r) => r.index),
      total,
      features: feats.map((data, k) => ({ rows: all.length, cols: dims[k]!, data })),
      probs: probs === null ? null : { rows: all.length, cols: net.classes, data: probs },
      colorfulness: all.map((r) => r.cf),
      seconds: 0,
      skipped: skipped.map(({ file, error }) => ({ file, error })),
      skippedIndices: skipped.map((s) => s.index),
    };
  };
  return { info: net, real: merge('real'), fake: merge('fake') };
}
