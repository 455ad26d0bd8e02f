/**
 * The anchor file of `disco colorize --anchors-file` (packages/colorize/src/cli/disco.ts,
 * `readHints`): `{ "<image file name>" | "*": [{ "row": px, "col": px, "ab": [a, b] }, …] }`,
 * positions in pixels of the input image, colors in Lab a, b units. The CLI looks up the image's
 * base name first, then `*`. Exported and imported here so that an edit made in the browser can be
 * repeated from the command line.
 */

/** One anchor: a pixel position of the input image and a Lab ab color (DISCO's user anchors). */
export interface HintAnchor {
  /** Pixel row of the input image (may be fractional). */
  row: number;
  /** Pixel column of the input image (may be fractional). */
  col: number;
  /** Lab `[a, b]` (the model maps it to the nearest of its 313 bins). */
  ab: [number, number];
}

/** Pixel scale from working image to the input file, per axis (1 when the image was not downscaled). */
export interface HintScale {
  /** Input rows per working row. */
  y: number;
  /** Input columns per working column. */
  x: number;
}

const UNIT: HintScale = Object.freeze({ y: 1, x: 1 });

/** The JSON text for `anchors` of the image `fileName` (keyed by its base name), positions scaled to the input file. */
export function hintsJson(fileName: string, anchors: readonly HintAnchor[], scale: HintScale = UNIT): string {
  const list = anchors.map((a) => ({ row: a.row * scale.y, col: a.col * scale.x, ab: [a.ab[0], a.ab[1]] }));
  return `${JSON.stringify({ [baseName(fileName)]: list }, null, 2)}\n`;
}

/**
 * Reads an anchor file for the image `fileName`: its entry by base name, else `*`. Validates as
 * the CLI does and throws one line naming the problem. Positions are divided by `scale`
 * (input file → working image).
 */
export function parseHints(text: string, fileName: string, scale: HintScale = UNIT): { key: string; anchors: HintAnchor[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`anchors file: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('anchors file: expected an object mapping image names to anchor lists');
  const table = raw as Record<string, unknown>;
  const name = baseName(fileName);
  const key = name in table ? name : '*' in table ? '*' : null;
  if (key == null) throw new Error(`anchors file: no entry for '${name}' or '*' (entries: ${Object.keys(table).join(', ') || 'none'})`);
  const list = table[key];
  if (!Array.isArray(list)) throw new Error(`anchors file: '${key}' must be a list of {row, col, ab}`);
  const anchors = list.map((a: { row?: unknown; col?: unknown; ab?: unknown }, i): HintAnchor => {
    if (typeof a?.row !== 'number' || typeof a?.col !== 'number' || !Array.isArray(a.ab) || a.ab.length !== 2) throw new Error(`anchors file: '${key}'[${i}] must be {row: number, col: number, ab: [a, b]}`);
    const ab: [number, number] = [Number(a.ab[0]), Number(a.ab[1])];
    if (!Number.isFinite(a.row) || !Number.isFinite(a.col) || !Number.isFinite(ab[0]) || !Number.isFinite(ab[1])) throw new Error(`anchors file: '${key}'[${i}] holds a non-finite number`);
    return { row: a.row / scale.y, col: a.col / scale.x, ab };
  });
  return { key, anchors };
}

/** The last path component (the CLI keys by `path.basename`). */
export function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() ?? fileName;
}
