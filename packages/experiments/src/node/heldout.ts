/**
 * Scoring colorizations of held-out photographs against their originals, and the stage-by-stage
 * diagnosis of the anchor path (Xia et al. 2022, §3: modeler → anchors → generator → diffusion →
 * refinement). Node only (decodes files with sharp).
 */
import * as tf from '@tensorflow/tfjs-core';
import { AbQuantizer, normalizedLabToRgb, resizeArea, rgbToNormalizedLab } from '@disco/color';
import { colorizeL, extensionsOf, isBaselineModel, type ChromaUpsampling, type ColorizationModel, type ColorizeOptions, type DiscoModel } from '@disco/colorize';
import { readImage } from '@disco/images';
import { diffuse } from '@disco/superpixel';
import { abAccuracy, blockiness, ClassErrorHistogram, colorShares } from '../metrics/ab.js';
import { colorfulness } from '../metrics/colorfulness.js';

/** A colorization method scored by {@link scoreHeldout}: full-resolution ab (Lab units) of one image. */
export interface HeldoutMethod {
  /** Row name in the tables. */
  name: string;
  /**
   * Predicted ab `[1,H,W,2]` normalised (ab/110) for one image (caller-owned result).
   *
   * @param L `[1,H,W,1]` normalised L of the photo.
   * @param ab `[1,H,W,2]` its true normalised ab (only oracle methods may look).
   */
  predict(L: tf.Tensor4D, ab: tf.Tensor4D): tf.Tensor4D;
}

/** Scores of one method, averaged over images (each image weighs the same). */
export interface MethodScores {
  /** Mean ab error (Lab units). */
  meanError: number;
  /** AuC of the cumulative ab error curve, t = 0…150 (Zhang et al. 2016). */
  auc: number;
  /**
   * Class-rebalanced AuC (Zhang et al. 2016): every pixel weighted inversely by the frequency of
   * its true color class (313 ab bins) over all scored pixels, i.e. the mean over the classes
   * present of each class's AuC ({@link ClassErrorHistogram}); pooled over images.
   */
  aucRebalanced?: number;
  /**
   * Mean over images of the blockiness at {@link HeldoutOptions.grid} ({@link blockiness}: ab
   * steps across the token grid's lines over steps within cells; 1 = none); absent without a grid.
   */
  blockiness?: number;
  /** Mean colorfulness (Hasler & Süsstrunk 2003) of the output RGB. */
  colorfulness: number;
  /** Fraction of green pixels (a < −10), pooled over all pixels. */
  green: number;
  /** Fraction of red pixels (a > 15), pooled over all pixels. */
  red: number;
  /** Images scored. */
  images: number;
}

/** What {@link scoreHeldout} returns: the ground truth's own statistics and one row per method. */
export interface HeldoutScores {
  /** Colorfulness and color shares of the original photos. */
  truth: Pick<MethodScores, 'colorfulness' | 'green' | 'red' | 'images' | 'blockiness'>;
  /** Method name → scores. */
  methods: Record<string, MethodScores>;
}

/** Options of {@link scoreHeldout}. */
export interface HeldoutOptions {
  /** Images are scored at most this long side (area-downsampled first; 0: full resolution). Default 0. */
  maxSide: number;
  /** Token grid `[rows, cols]` for {@link MethodScores.blockiness} (a model's `grid(S, S)`); absent: not measured. */
  grid?: readonly [number, number];
  /** Called after each image with its index and the running total. */
  onImage?: (done: number, total: number, file: string) => void;
  /** Called with the RGB `[H,W,3]` output of each method (e.g. to write files for FID). */
  onOutput?: (file: string, method: string, rgb: tf.Tensor3D) => Promise<void>;
}

/** Normalised Lab `[1,h,w,·]` of an RGB image `[H,W,3]`, area-resized to `size(H, W)`. */
function labOf(rgb: tf.Tensor3D, size: (H: number, W: number) => [number, number]): { L: tf.Tensor4D; ab: tf.Tensor4D } {
  const [H, W] = rgb.shape;
  const [h, w] = size(H, W);
  // In a tidy: the expanded view shares rgb's data and would keep the full-size image alive.
  const x = tf.tidy(() => (h === H && w === W ? (tf.expandDims(rgb, 0) as tf.Tensor4D) : resizeArea(tf.expandDims(rgb, 0) as tf.Tensor4D, h, w)));
  const lab = rgbToNormalizedLab(x);
  x.dispose();
  return { L: lab.L, ab: lab.ab };
}

function toRgb255(L: tf.Tensor4D, ab: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.mul(tf.clipByValue(normalizedLabToRgb(L, ab), 0, 1), 255).dataSync() as Float32Array);
}

/**
 * Reads each photo, derives its grey L, runs every method, and scores the outputs against the
 * photo's own ab: ab error and AuC, colorfulness, green and red shares.
 *
 * @example
 * ```ts
 * const s = await scoreHeldout(files, [greyMethod(), discoMethod(model)]);
 * s.methods.grey.meanError; // Lab units
 * ```
 */
export async function scoreHeldout(files: readonly string[], methods: readonly HeldoutMethod[], options: Partial<HeldoutOptions> = {}): Promise<HeldoutScores> {
  const maxSide = options.maxSide ?? 0;
  const grid = options.grid;
  const sums = new Map<string, { err: number; auc: number; cf: number; green: number; red: number; px: number; block: number }>();
  for (const m of methods) sums.set(m.name, { err: 0, auc: 0, cf: 0, green: 0, red: 0, px: 0, block: 0 });
  const truth = { cf: 0, green: 0, red: 0, px: 0, block: 0 };
  const classHist = new Map(methods.map((m) => [m.name, new ClassErrorHistogram()]));
  const quantizer = new AbQuantizer();
  try {
    for (const [i, file] of files.entries()) {
      const rgb = await readImage(file);
      const { L, ab } = labOf(rgb, (H, W) => {
        const s = maxSide > 0 ? Math.min(1, maxSide / Math.max(H, W)) : 1;
        return [Math.max(1, Math.round(H * s)), Math.max(1, Math.round(W * s))];
      });
      rgb.dispose();
      const [, H, W] = L.shape;
      const trueAb = tf.tidy(() => tf.mul(ab, 110).dataSync() as Float32Array);
      const trueClass = classesOf(quantizer, trueAb);
      const ts = colorShares(trueAb);
      truth.cf += colorfulness({ width: W, height: H, channels: 3, data: toRgb255(L, ab) });
      truth.green += ts.green * H * W;
      truth.red += ts.red * H * W;
      truth.px += H * W;
      if (grid) truth.block += blockiness(trueAb, H, W, grid[0], grid[1]);
      for (const m of methods) {
        const pred = m.predict(L, ab);
        const predAb = tf.tidy(() => tf.mul(pred, 110).dataSync() as Float32Array);
        const acc = abAccuracy(predAb, trueAb);
        const sh = colorShares(predAb);
        const s = sums.get(m.name)!;
        s.err += acc.meanError;
        s.auc += acc.auc;
        classHist.get(m.name)!.add(predAb, trueAb, trueClass);
        s.cf += colorfulness({ width: W, height: H, channels: 3, data: toRgb255(L, pred) });
        s.green += sh.green * H * W;
        s.red += sh.red * H * W;
        s.px += H * W;
        if (grid) s.block += blockiness(predAb, H, W, grid[0], grid[1]);
        if (options.onOutput) {
          const out = tf.tidy(() => tf.squeeze(tf.clipByValue(normalizedLabToRgb(L, pred), 0, 1), [0]) as tf.Tensor3D);
          await options.onOutput(file, m.name, out);
          out.dispose();
        }
        pred.dispose();
      }
      tf.dispose([L, ab]);
      options.onImage?.(i + 1, files.length, file);
    }
  } finally {
    quantizer.dispose();
  }
  const n = files.length;
  const block = (sum: number) => (grid ? { blockiness: sum / n } : {});
  const result: HeldoutScores = { truth: { colorfulness: truth.cf / n, green: truth.green / truth.px, red: truth.red / truth.px, images: n, ...block(truth.block) }, methods: {} };
  for (const [name, s] of sums) result.methods[name] = { meanError: s.err / n, auc: s.auc / n, aucRebalanced: classHist.get(name)!.rebalancedAuc(), colorfulness: s.cf / n, green: s.green / s.px, red: s.red / s.px, images: n, ...block(s.block) };
  return result;
}

/** The nearest of the 313 ab bins of each pixel (`ab` interleaved, Lab units), in chunks so that the `[n, 313]` distances stay small. */
function classesOf(quantizer: AbQuantizer, ab: Float32Array): Int32Array {
  const n = ab.length / 2;
  const out = new Int32Array(n);
  const CHUNK = 1 << 16;
  for (let p = 0; p < n; p += CHUNK) {
    const m = Math.min(CHUNK, n - p);
    out.set(tf.tidy(() => quantizer.encode(tf.tensor2d(ab.subarray(2 * p, 2 * (p + m)), [m, 2])).dataSync() as Int32Array), p);
  }
  return out;
}

/** Leaving the photo grey (ab = 0). */
export function greyMethod(): HeldoutMethod {
  return { name: 'grey', predict: (L) => tf.zeros([1, L.shape[1], L.shape[2], 2]) as tf.Tensor4D };
}

/** One constant color everywhere: `ab` in Lab units (e.g. the training set's mean, {@link meanTrainingAb}). */
export function constantMethod(ab: readonly [number, number], name = 'mean color'): HeldoutMethod {
  return {
    name,
    predict: (L) => tf.tidy(() => tf.add(tf.zeros([1, L.shape[1], L.shape[2], 2]), tf.tensor1d([ab[0] / 110, ab[1] / 110])) as tf.Tensor4D),
  };
}

/** A model through {@link colorizeL} (DISCO: predicted anchors, or `oracle: true` for ground-truth anchors; a baseline: its output). */
export function discoMethod(model: ColorizationModel, options: Partial<Omit<ColorizeOptions, 'oracle'>> & { oracle?: boolean; name?: string } = {}): HeldoutMethod {
  const { oracle, name, ...rest } = options;
  return {
    name: name ?? (oracle ? 'DISCO, oracle anchors' : 'DISCO'),
    predict: (L, ab) => {
      const res = colorizeL(model, L, { ...rest, oracle: oracle ? ab : undefined });
      for (const r of res.slice(1)) r.ab.dispose();
      return res[0]!.ab;
    },
  };
}

/**
 * The methods a model is scored by: for DISCO its predicted anchors (most probable bin), expected
 * anchor colors, any extra anchor-color temperatures and post-hoc rebalancing strengths, and oracle
 * anchors; for a baseline (`extensions.arch` `regression` / `classification`) its one output, named
 * `regression baseline` / `classification baseline`. Options that need anchors throw a one-line
 * error for a baseline.
 *
 * @example
 * ```ts
 * const methods = [greyMethod(), constantMethod(meanAb), ...modelMethods(model, { anchorRebalances: [0.5] })];
 * ```
 */
export function modelMethods(model: ColorizationModel, options: { anchorTemperatures?: readonly number[]; anchorRebalances?: readonly number[]; chromaUpsampling?: ChromaUpsampling } = {}): HeldoutMethod[] {
  const chroma = options.chromaUpsampling ? { chromaUpsampling: options.chromaUpsampling } : {};
  const arch = extensionsOf(model.config).arch;
  const temps = options.anchorTemperatures ?? [];
  const alphas = options.anchorRebalances ?? [];
  if (isBaselineModel(model)) {
    if (temps.length || alphas.length) throw new Error(`modelMethods: anchor temperatures and rebalancing need a DISCO model; this is the '${arch}' baseline, which has no anchors`);
    return [discoMethod(model, { ...chroma, name: `${arch} baseline` })];
  }
  return [
    discoMethod(model, chroma),
    discoMethod(model, { ...chroma, extensions: { anchorColors: 'expected' }, name: 'DISCO, expected anchor colors' }),
    ...temps.map((t) => discoMethod(model, { ...chroma, extensions: { anchorColors: 'expected', anchorTemperature: t }, name: `DISCO, expected anchor colors, T = ${t}` })),
    ...alphas.map((a) => discoMethod(model, { ...chroma, extensions: { anchorRebalance: a }, name: `DISCO, anchor rebalance α = ${a}` })),
    discoMethod(model, { ...chroma, oracle: true }),
  ];
}

/** The mean ab (Lab units) over every pixel of `files`, each image area-resized to `size`². */
export async function meanTrainingAb(files: readonly string[], size = 64): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (const f of files) {
    const rgb = await readImage(f);
    const lab = labOf(rgb, () => [size, size]);
    const m = tf.tidy(() => tf.mean(tf.mul(lab.ab, 110), [0, 1, 2]).dataSync());
    tf.dispose([lab.L, lab.ab]);
    rgb.dispose();
    a += m[0]!;
    b += m[1]!;
  }
  return [a / files.length, b / files.length];
}

/** One row of the anchor-path diagnosis (means over images; Lab units for errors). */
export interface AnchorDiagnosis {
  /** Fraction of anchor tokens whose hint bin equals the token's true bin (oracle: should be 1). */
  hintEqualsTruth: number;
  /** Fraction of anchor tokens where the generator's most probable bin equals its hint bin. */
  generatorKeepsHint: number;
  /** Generator decoded color (annealed mean at the model's temperature) at anchor tokens vs their true pooled color. */
  generatorErrorAtAnchors: number;
  /** Same at every token. */
  generatorErrorAllTokens: number;
  /** Same at every token with the hints withheld (what the hints add is the difference). */
  generatorErrorNoHints: number;
  /** The modeler's decoded colors at every token vs the true pooled colors. */
  modelerErrorAllTokens: number;
  /** Decoded generator colors diffused to pixels vs the true pixel ab. */
  diffusedError: number;
  /** The model's final output vs the true pixel ab. */
  outputError: number;
  /** The final output with the hints withheld. */
  outputErrorNoHints: number;
  /** Refinement output with user anchors at the oracle anchors' pixels vs the oracle output (max |Δab|): the user-anchor path end to end. */
  userPathMaxDiff: number;
  /** Images. */
  images: number;
}

/**
 * Measures every stage of the anchor path with ground-truth (oracle) anchors at the model's own
 * size: the photo is area-resized to `imageSize²` (as inference does).
 */
export async function diagnoseAnchors(model: DiscoModel, files: readonly string[]): Promise<AnchorDiagnosis> {
  const size = model.config.imageSize;
  const S = model.config.cellSize;
  const T = model.extensions.decodeTemperature;
  const sum = { hint: 0, keep: 0, gA: 0, gAll: 0, gNo: 0, mAll: 0, diff: 0, out: 0, outNo: 0, user: 0 };
  for (const f of files) {
    const rgb = await readImage(f);
    const { L, ab } = labOf(rgb, () => [size, size]);
    rgb.dispose();
    const o = model.forward(L, ab, { colors: { kind: 'groundTruth' }, locateOn: 'colors' });
    const no = model.forward(L, ab, { colors: { kind: 'groundTruth' }, locateOn: 'colors', dropHints: true });
    const q = model.quantizer;
    const r = tf.tidy(() => {
      const mask = tf.reshape(o.anchorMask, [-1]);
      const nA = tf.sum(mask);
      const hintBin = tf.reshape(tf.argMax(o.anchorColors, 3), [-1]);
      const truthBin = tf.reshape(o.targetClasses!, [-1]);
      const genBin = tf.reshape(tf.argMax(o.generatorLogits, 3), [-1]);
      const frac = (eq: tf.Tensor) => tf.div(tf.sum(tf.mul(tf.cast(eq, 'float32'), mask)), nA);
      const spTrue = tf.mul(o.superpixelColors!, 110); // [1,h,w,2]
      const err = (abLab: tf.Tensor) => tf.sqrt(tf.sum(tf.square(tf.sub(abLab, spTrue)), 3)); // [1,h,w]
      const gDec = q.decodeAnnealedMean(o.generatorLogits, T);
      const gErr = tf.reshape(err(gDec), [-1]);
      const pixErr = (x: tf.Tensor) => tf.mean(tf.sqrt(tf.sum(tf.square(tf.mul(tf.sub(x, ab), 110)), 3)));
      const diffused = diffuse(tf.div(gDec, 110) as tf.Tensor4D, o.association, S);
      return [
        frac(tf.equal(hintBin, truthBin)),
        frac(tf.equal(genBin, hintBin)),
        tf.div(tf.sum(tf.mul(gErr, mask)), nA),
        tf.mean(gErr),
        tf.mean(err(q.decodeAnnealedMean(no.generatorLogits, T))),
        tf.mean(err(q.decodeAnnealedMean(o.modelerLogits, T))),
        pixErr(diffused),
        pixErr(o.ab),
        pixErr(no.ab),
      ].map((t) => t.dataSync()[0]!);
    });
    // The user-anchor path: the oracle anchors given as pixel positions and Lab colors.
    const idx = o.anchorIndices.dataSync();
    const sp = o.superpixelColors!.dataSync();
    const w = size / S;
    const anchors = Array.from(idx, (t) => ({ row: Math.floor(t / w) * S + S / 2, col: (t % w) * S + S / 2, units: 'pixel' as const, ab: [sp[2 * t]! * 110, sp[2 * t + 1]! * 110] as [number, number] }));
    const u = model.forward(L, null, { userAnchors: [anchors] });
    const userDiff = tf.tidy(() => tf.max(tf.abs(tf.mul(tf.sub(u.ab, o.ab), 110))).dataSync()[0]!);
    [sum.hint, sum.keep, sum.gA, sum.gAll, sum.gNo, sum.mAll, sum.diff, sum.out, sum.outNo] = [sum.hint, sum.keep, sum.gA, sum.gAll, sum.gNo, sum.mAll, sum.diff, sum.out, sum.outNo].map((v, i) => v + r[i]!) as typeof r & [number, number, number, number, number, number, number, number, number];
    sum.user = Math.max(sum.user, userDiff);
    tf.dispose([L, ab, ...Object.values(o), ...Object.values(no), ...Object.values(u)].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
  }
  const n = files.length;
  return {
    hintEqualsTruth: sum.hint / n,
    generatorKeepsHint: sum.keep / n,
    generatorErrorAtAnchors: sum.gA / n,
    generatorErrorAllTokens: sum.gAll / n,
    generatorErrorNoHints: sum.gNo / n,
    modelerErrorAllTokens: sum.mAll / n,
    diffusedError: sum.diff / n,
    outputError: sum.out / n,
    outputErrorNoHints: sum.outNo / n,
    userPathMaxDiff: sum.user,
    images: n,
  };
}
