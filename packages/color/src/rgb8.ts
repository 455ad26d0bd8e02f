/** 8-bit sRGB pixels, row-major `[height, width, 3]`, outside tfjs. */
export interface Rgb8Image {
  /** `height·width·3` bytes, interleaved RGB. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}
