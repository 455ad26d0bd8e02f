/**
 * The model side of the demo: DISCO (Xia et al., ACM TOG 2022) on one image through the public
 * API of `@disco/colorize` — `colorizeL` for results (three anchor-color samplings T = 0, 1, 2, or
 * the user's anchors), and `DiscoModel.forward` for the color modeler's 313-bin distribution per
 * superpixel, whose most probable bins are the palette offered at an anchor.
 *
 * Geometry: results are computed in `resize` mode, as `disco colorize` does by default — the model
 * runs at its training size and the predicted ab meets the image's own L through the guided filter
 * (He et al. 2013; `chromaUpsampling: 'guided'`, no blocks at the superpixel grid), or bilinearly
 * when {@link DiscoEngine.chromaUpsampling} is `'bilinear'`.
 * Anchor positions are pixels of the (working) image, ab in Lab units.
 */
import * as tf from '@tensorflow/tfjs-core';
import { labToRgb, normalizedLabToRgb, resizeArea, rgbToLab, rgbToNormalizedLab, NUM_AB_BINS } from '@disco/color';
import { asDiscoModel, colorizeL, composeRgb8, deserializeDiscoModel, guidedChromaOptions, officialModel, type ChromaUpsampling, type DiscoModel, type DiscoModelJson } from '@disco/colorize';
import { readPth, stateDictOf } from '@disco/pth';
import type { HintAnchor } from './hints.js';

/** An opaque RGBA image (what a canvas holds). */
export interface ImagePixels {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width·height·4` bytes, row-major RGBA. */
  rgba: Uint8ClampedArray;
}

/** One of the three diverse results. */
export interface VariantResult {
  /** Anchor-color sampling: 0 the most probable bin, 1 and 2 far from the previous ones. */
  variant: 0 | 1 | 2;
  /** The colorized image, RGBA. */
  rgba: Uint8ClampedArray;
  /** The located anchors with their sampled colors. */
  anchors: HintAnchor[];
}

/** One palette entry: a bin of the color modeler's distribution at a superpixel. */
export interface PaletteEntry {
  /** Bin centre, Lab `[a, b]`. */
  ab: [number, number];
  /** Its probability under the modeler's softmax. */
  probability: number;
}

/** How many of the modeler's most probable colors the palette offers. */
export const PALETTE_SIZE = 6;

/** The model and the open image. Tensors it holds are freed by {@link DiscoEngine.dispose}. */
export class DiscoEngine {
  /** The deserialised model. */
  readonly model: DiscoModel;
  private L: tf.Tensor4D | null = null;
  private lData: Float32Array | null = null;
  private top: { probs: Float32Array; bins: Int32Array; h: number; w: number } | null = null;
  private binCentres: Float32Array;
  /** Width of the open image. */
  width = 0;
  /** Height of the open image. */
  height = 0;
  /** How the model-size ab meets the image's L (`colorizeL`'s `chromaUpsampling`): `guided` (default) or `bilinear`. */
  chromaUpsampling: ChromaUpsampling = 'guided';

  private constructor(model: DiscoModel) {
    this.model = model;
    this.binCentres = model.quantizer.bins.dataSync() as Float32Array;
  }

  /** Builds the engine from a model's two files (`disco-model.json`, `weights.bin`), whatever its config. */
  static fromFiles(json: DiscoModelJson, weights: ArrayBuffer): DiscoEngine {
    const model = deserializeDiscoModel(json, weights, 'embedded model');
    try {
      return new DiscoEngine(asDiscoModel(model, 'embedded model'));
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * Builds the engine from the bytes of a published DISCO checkpoint (the authors' `torch.save`
   * file, e.g. `disco-beta.pth.tar`): the `paper` model with its weights converted. Errors are one
   * line naming `name` (not a checkpoint, a missing or misshapen key, …).
   */
  static fromCheckpoint(bytes: Uint8Array, name = 'checkpoint'): DiscoEngine {
    return new DiscoEngine(officialModel(stateDictOf(readPth(bytes, { source: name }), name), name));
  }

  /** One line about the model, read from its config. */
  describeModel(): string {
    const c = this.model.config;
    const n = this.model.countParams().total;
    return `${(n / 1e6).toFixed(2)} M parameters, ${c.imageSize}² input, cell ${c.cellSize}, K = ${c.anchors} anchors`;
  }

  /**
   * Opens an image: its L, the modeler's palette per superpixel, and the three diverse results
   * (T = 0, 1, 2) with their located anchors. Replaces a previously open image.
   */
  async open(px: ImagePixels): Promise<{ diverse: VariantResult[]; grey: Uint8ClampedArray }> {
    this.close();
    const { width, height } = px;
    const rgb = new Float32Array(width * height * 3);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgb[i] = px.rgba[j]! / 255;
      rgb[i + 1] = px.rgba[j + 1]! / 255;
      rgb[i + 2] = px.rgba[j + 2]! / 255;
    }
    this.L = tf.tidy(() => {
      const lab = rgbToNormalizedLab(tf.tensor4d(rgb, [1, height, width, 3]));
      return lab.L;
    });
    this.lData = (await this.L.data()) as Float32Array;
    this.width = width;
    this.height = height;
    this.top = this.modelerPalettes();
    const results = colorizeL(this.model, this.L, { mode: 'resize', variants: [0, 1, 2], chromaUpsampling: this.chromaUpsampling });
    const diverse: VariantResult[] = [];
    for (const r of results) {
      diverse.push({ variant: r.variant as 0 | 1 | 2, rgba: await this.toRgba(r.ab), anchors: r.anchors.map((a) => ({ row: a.row, col: a.col, ab: [a.ab[0], a.ab[1]] })) });
      r.ab.dispose();
    }
    const zeros = tf.zeros([1, height, width, 2]) as tf.Tensor4D;
    const grey = await this.toRgba(zeros);
    zeros.dispose();
    return { diverse, grey };
  }

  /**
   * Colorizes the open image with these anchors (they replace the located ones, as
   * `disco colorize --anchors-file` does; an empty list leaves the model's own anchors).
   */
  async render(anchors: readonly HintAnchor[]): Promise<Uint8ClampedArray> {
    const L = this.requireImage('render');
    const user = anchors.map((a) => ({ row: a.row, col: a.col, units: 'pixel' as const, ab: [a.ab[0], a.ab[1]] as [number, number] }));
    const [r] = colorizeL(this.model, L, { mode: 'resize', variants: [0], userAnchors: user, chromaUpsampling: this.chromaUpsampling });
    try {
      return await this.toRgba(r!.ab);
    } finally {
      r!.ab.dispose();
    }
  }

  /**
   * The result for these anchors (working-image pixels, as {@link render}) at the full resolution
   * of the file, `full` (8-bit RGB): the model runs on the same model-size input as the displayed
   * result, and its ab meets the file's own L band by band (`composeRgb8`; guided by that L, or
   * bilinear, per {@link chromaUpsampling}), as `disco colorize` does — the network still runs
   * small. Returns `height·width·3` bytes.
   */
  renderFull(full: { data: Uint8Array; width: number; height: number }, anchors: readonly HintAnchor[]): Uint8Array {
    const L = this.requireImage('renderFull');
    const S = this.model.config.imageSize;
    const [sy, sx] = [S / this.height, S / this.width];
    const Lm = resizeArea(L, S, S); // [1,S,S,1]: what colorizeL feeds the model for the displayed result
    const user = anchors.map((a) => ({ row: a.row * sy, col: a.col * sx, units: 'pixel' as const, ab: [a.ab[0], a.ab[1]] as [number, number] }));
    try {
      // The model-size ab as predicted: the guided filter runs in composeRgb8, guided by the file's L.
      const [r] = colorizeL(this.model, Lm, { mode: 'resize', variants: [0], userAnchors: user, chromaUpsampling: 'bilinear' });
      try {
        return composeRgb8(full, r!.ab, this.chromaUpsampling === 'guided' ? { guide: { L: Lm, ...guidedChromaOptions(this.model) } } : {});
      } finally {
        r!.ab.dispose();
      }
    } finally {
      Lm.dispose();
    }
  }

  /** The superpixel (token row, column) of the model grid that holds image pixel (row, col). */
  tokenOf(row: number, col: number): [number, number] {
    const size = this.model.config.imageSize;
    const S = this.model.config.cellSize;
    const [h, w] = this.model.grid(size, size);
    // The same map as colorizeL and applyUserAnchors: scale to the model input, then floor(·/S).
    const r = Math.floor((row * (size / this.height)) / S);
    const c = Math.floor((col * (size / this.width)) / S);
    return [Math.min(h - 1, Math.max(0, r)), Math.min(w - 1, Math.max(0, c))];
  }

  /** The modeler's {@link PALETTE_SIZE} most probable colors at the superpixel holding pixel (row, col). */
  palette(row: number, col: number): PaletteEntry[] {
    const top = this.top;
    if (!top) return [];
    const [r, c] = this.tokenOf(row, col);
    const t = r * top.w + c;
    const out: PaletteEntry[] = [];
    for (let k = 0; k < PALETTE_SIZE; k++) {
      const bin = top.bins[t * PALETTE_SIZE + k]!;
      out.push({ ab: [this.binCentres[2 * bin]!, this.binCentres[2 * bin + 1]!], probability: top.probs[t * PALETTE_SIZE + k]! });
    }
    return out;
  }

  /** Lab lightness (0–100) of the open image at pixel (row, col). */
  lightnessAt(row: number, col: number): number {
    if (!this.lData) return 50;
    const y = Math.min(this.height - 1, Math.max(0, Math.round(row)));
    const x = Math.min(this.width - 1, Math.max(0, Math.round(col)));
    return 50 + 50 * this.lData[y * this.width + x]!;
  }

  /** sRGB bytes of Lab colors `(L, a, b)` (out-of-gamut clamped), through the package's conversion. */
  labToRgbBytes(colors: ReadonlyArray<readonly [number, number, number]>): Array<[number, number, number]> {
    if (colors.length === 0) return [];
    const v = tf.tidy(() => labToRgb(tf.tensor4d(colors.flatMap((c) => [c[0], c[1], c[2]]), [1, 1, colors.length, 3])).dataSync());
    return colors.map((_, i) => [byte(v[3 * i]!), byte(v[3 * i + 1]!), byte(v[3 * i + 2]!)]);
  }

  /** Lab `[a, b]` of an sRGB byte color, through the package's conversion. */
  abOfRgbBytes(r: number, g: number, b: number): [number, number] {
    const v = tf.tidy(() => rgbToLab(tf.tensor4d([r / 255, g / 255, b / 255], [1, 1, 1, 3])).dataSync());
    return [v[1]!, v[2]!];
  }

  /** Frees the open image's tensors. */
  close(): void {
    this.L?.dispose();
    this.L = null;
    this.lData = null;
    this.top = null;
  }

  /** Frees everything, the model included. */
  dispose(): void {
    this.close();
    this.model.dispose();
  }

  private requireImage(fn: string): tf.Tensor4D {
    if (!this.L) throw new Error(`DiscoEngine.${fn}: no image is open`);
    return this.L;
  }

  /** Top bins of the color modeler's softmax per token, at the model size (resize mode). */
  private modelerPalettes(): { probs: Float32Array; bins: Int32Array; h: number; w: number } {
    const L = this.requireImage('open');
    const size = this.model.config.imageSize;
    const [h, w] = this.model.grid(size, size);
    const input = resizeArea(L, size, size);
    try {
      // The modeler's distributions only: everything before the anchors.
      const enc = this.model.encode(input);
      const { values, indices } = tf.tidy(() => tf.topk(tf.softmax(tf.reshape(enc.logits, [h * w, NUM_AB_BINS])), PALETTE_SIZE));
      tf.dispose(Object.values(enc));
      const probs = values.dataSync() as Float32Array;
      const bins = indices.dataSync() as Int32Array;
      tf.dispose([values, indices]);
      return { probs, bins, h, w };
    } finally {
      input.dispose();
    }
  }

  /** RGBA bytes of the open L with `ab` `[1,H,W,2]` (ab/110), rounded as `writeImage` rounds. */
  private async toRgba(ab: tf.Tensor4D): Promise<Uint8ClampedArray> {
    const L = this.requireImage('toRgba');
    const rgb = tf.tidy(() => normalizedLabToRgb(L, ab));
    const v = (await rgb.data()) as Float32Array;
    rgb.dispose();
    const out = new Uint8ClampedArray(this.width * this.height * 4);
    for (let i = 0, j = 0; i < v.length; i += 3, j += 4) {
      out[j] = byte(v[i]!);
      out[j + 1] = byte(v[i + 1]!);
      out[j + 2] = byte(v[i + 2]!);
      out[j + 3] = 255;
    }
    return out;
  }
}

/** [0, 1] → 0..255 as `writeImage` of `@disco/colorize/node` does it (clamp, then round half up). */
function byte(x: number): number {
  return Math.round(Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)) * 255);
}
