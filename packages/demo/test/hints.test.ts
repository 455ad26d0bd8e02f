import { describe, expect, it } from 'vitest';
import { baseName, hintsJson, parseHints } from '../src/hints.js';

describe('anchor files (the --anchors-file format of disco colorize)', () => {
  const anchors = [
    { row: 16, col: 240, ab: [0, -20] as [number, number] },
    { row: 37.5, col: 101, ab: [80.09, 67.2] as [number, number] },
  ];
  it('writes {"<base name>": [{row, col, ab}]} in the input file\'s pixels', () => {
    const text = hintsJson('photos/astronaut.png', anchors, { y: 2, x: 4 });
    expect(JSON.parse(text)).toEqual({
      'astronaut.png': [
        { row: 32, col: 960, ab: [0, -20] },
        { row: 75, col: 404, ab: [80.09, 67.2] },
      ],
    });
  });
  it('reads back what it writes, exactly (scale 1 and a round trip through a scale)', () => {
    expect(parseHints(hintsJson('a.png', anchors), 'a.png')).toEqual({ key: 'a.png', anchors });
    const s = { y: 3, x: 0.5 };
    const back = parseHints(hintsJson('a.png', anchors, s), 'a.png', s).anchors;
    back.forEach((a, i) => {
      expect(a.row).toBeCloseTo(anchors[i]!.row, 12);
      expect(a.col).toBeCloseTo(anchors[i]!.col, 12);
    });
  });
  it("looks up the image's base name first, then '*', as the CLI does", () => {
    const text = JSON.stringify({ '*': [{ row: 1, col: 2, ab: [3, 4] }], 'b.jpg': [{ row: 5, col: 6, ab: [7, 8] }] });
    expect(parseHints(text, 'b.jpg')).toEqual({ key: 'b.jpg', anchors: [{ row: 5, col: 6, ab: [7, 8] }] });
    expect(parseHints(text, 'dir/c.png')).toEqual({ key: '*', anchors: [{ row: 1, col: 2, ab: [3, 4] }] });
  });
  it('rejects what the CLI rejects, with one line naming the problem', () => {
    expect(() => parseHints('{', 'a.png')).toThrow(/^anchors file: /);
    expect(() => parseHints('[]', 'a.png')).toThrow('anchors file: expected an object mapping image names to anchor lists');
    expect(() => parseHints('{"a.png": 3}', 'a.png')).toThrow("anchors file: 'a.png' must be a list of {row, col, ab}");
    expect(() => parseHints('{"a.png": [{"row": 1, "col": 2, "ab": [1]}]}', 'a.png')).toThrow("anchors file: 'a.png'[0] must be {row: number, col: number, ab: [a, b]}");
    expect(() => parseHints('{"x.png": []}', 'a.png')).toThrow("anchors file: no entry for 'a.png' or '*' (entries: x.png)");
  });
  it('takes the last path component of either separator', () => {
    expect(baseName('a/b\\c.png')).toBe('c.png');
    expect(baseName('c.png')).toBe('c.png');
  });
});
