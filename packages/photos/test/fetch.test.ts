import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dep5LicenseFor, parseDep5 } from '../src/dep5.js';
import * as os from 'node:os';
import { checkDisjoint, compareManifests, kphotoalbumAngles, PHOTO_PACKAGES, plasmaPhotoWallpapers, tuxpaintPhotoStamps, type PhotoManifest, type PhotoRecord } from '../src/photos.js';
import { readRcc } from '../src/rcc.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Node {
  name: string;
  children?: Node[];
  data?: Buffer;
  mode?: 'none' | 'zlib' | 'zstd';
}

/** Builds an rcc bundle (breadth-first tree like Qt's rcc) from a node tree. */
function buildRcc(root: Node, version: number): Buffer {
  const nodeSize = version >= 2 ? 22 : 14;
  const order: Node[] = [root];
  const firstChild = new Map<Node, number>();
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    if (n.children) {
      firstChild.set(n, order.length);
      order.push(...n.children);
    }
  }
  const names: Buffer[] = [];
  const nameOff = new Map<Node, number>();
  let nlen = 0;
  const datas: Buffer[] = [];
  const dataOff = new Map<Node, number>();
  let dlen = 0;
  for (const n of order.slice(1)) {
    const nb = Buffer.alloc(6 + 2 * n.name.length);
    nb.writeUInt16BE(n.name.length, 0);
    nb.writeUInt32BE(0xdeadbeef, 2);
    for (let i = 0; i < n.name.length; i++) nb.writeUInt16BE(n.name.charCodeAt(i), 6 + 2 * i);
    nameOff.set(n, nlen);
    names.push(nb);
    nlen += nb.length;
    if (n.data) {
      let payload = n.data;
      if (n.mode === 'zlib') {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(n.data.length);
        payload = Buffer.concat([len, deflateSync(n.data)]);
      }
      const db = Buffer.alloc(4 + payload.length);
      db.writeUInt32BE(payload.length, 0);
      payload.copy(db, 4);
      dataOff.set(n, dlen);
      datas.push(db);
      dlen += db.length;
    }
  }
  const tree = Buffer.alloc(order.length * nodeSize);
  order.forEach((n, i) => {
    const p = i * nodeSize;
    tree.writeUInt32BE(nameOff.get(n) ?? 0, p);
    if (n.children) {
      tree.writeUInt16BE(2, p + 4);
      tree.writeUInt32BE(n.children.length, p + 6);
      tree.writeUInt32BE(firstChild.get(n)!, p + 10);
    } else {
      tree.writeUInt16BE(n.mode === 'zlib' ? 1 : n.mode === 'zstd' ? 4 : 0, p + 4);
      tree.writeUInt32BE(dataOff.get(n)!, p + 10);
    }
  });
  const headerLen = version >= 3 ? 24 : 20;
  const header = Buffer.alloc(headerLen);
  header.write('qres', 0, 'latin1');
  header.writeUInt32BE(version, 4);
  const treeAt = headerLen;
  const dataAt = treeAt + tree.length;
  const namesAt = dataAt + dlen;
  header.writeUInt32BE(treeAt, 8);
  header.writeUInt32BE(dataAt, 12);
  header.writeUInt32BE(namesAt, 16);
  return Buffer.concat([header, tree, ...datas, ...names]);
}

const photo = Buffer.from('not really a jpeg, but bytes with some repetition '.repeat(20));
const sample: Node = {
  name: '',
  children: [
    {
      name: 'gcompris',
      children: [
        { name: 'a.webp', data: Buffer.from([1, 2, 3, 4, 5]), mode: 'none' },
        { name: 'résumé', children: [{ name: 'b.jpg', data: photo, mode: 'zlib' }] },
      ],
    },
  ],
};

describe('readRcc (synthetic bundles)', () => {
  for (const version of [1, 2, 3]) {
    it(`lists and reads stored and zlib entries (version ${version})`, () => {
      const entries = readRcc(buildRcc(sample, version));
      expect(entries.map((e) => [e.path, e.compression])).toEqual([
        ['gcompris/a.webp', 'none'],
        ['gcompris/résumé/b.jpg', 'zlib'],
      ]);
      expect([...entries[0]!.read()]).toEqual([1, 2, 3, 4, 5]);
      expect(entries[1]!.read().equals(photo)).toBe(true);
      expect(entries[1]!.storedSize).toBeLessThan(photo.length); // really compressed
    });
  }
  it('reports zstd payloads clearly instead of returning garbage', () => {
    const rcc = buildRcc({ name: '', children: [{ name: 'z.png', data: Buffer.from([9, 9]), mode: 'zstd' }] }, 3);
    const [e] = readRcc(rcc, 'x.rcc');
    expect(e!.compression).toBe('zstd');
    expect(() => e!.read()).toThrow(/^readRcc: x.rcc: z.png: zstd-compressed payload .* not supported/);
  });
  it('rejects bad magic, unknown versions, truncation and corrupt zlib with one-line errors', () => {
    expect(() => readRcc(Buffer.from('PK\u0003\u0004 not an rcc file at all'), 'f.rcc')).toThrow(/^readRcc: f.rcc: not a Qt resource bundle/);
    const good = buildRcc(sample, 2);
    const v9 = Buffer.from(good);
    v9.writeUInt32BE(9, 4);
    expect(() => readRcc(v9, 'f.rcc')).toThrow(/unsupported rcc version 9/);
    expect(() => readRcc(good.subarray(0, good.length - 10), 'f.rcc')).toThrow(/^readRcc: f.rcc: (truncated|names offset)/);
    const bad = Buffer.from(good);
    const z = readRcc(good).find((e) => e.compression === 'zlib')!;
    const at = bad.indexOf(deflateSync(photo).subarray(0, 8));
    bad[at + 2] ^= 0xff;
    bad[at + 3] ^= 0xff;
    expect(() => readRcc(bad, 'f.rcc').find((e) => e.path === z.path)!.read()).toThrow(/^readRcc: f.rcc: gcompris\/résumé\/b.jpg: (corrupt zlib|inflated)/);
  });
});

describe('DEP-5 licenses', () => {
  const text = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2014 Someone
License: GPL-3+

Files: src/activities/photo_hunter/resource/*
  src/activities/other/*.svg
Copyright: public
License: public-domain

Files: debian/*
Copyright: 2020 Debian
License: GPL-2+

License: GPL-3+
 long text
`;
  it('parses Files paragraphs and applies last-match-wins over path tails', () => {
    const paras = parseDep5(text);
    expect(paras.map((p) => p.license)).toEqual(['GPL-3+', 'public-domain', 'GPL-2+']);
    expect(paras[1]!.files).toEqual(['src/activities/photo_hunter/resource/*', 'src/activities/other/*.svg']);
    const tails = (p: string): string[] => p.split('/').map((_, i, a) => a.slice(i).join('/'));
    expect(dep5LicenseFor(paras, tails('gcompris/src/activities/photo_hunter/resource/x.jpg'))!.license).toBe('public-domain');
    expect(dep5LicenseFor(paras, tails('gcompris/src/activities/erase/resource/x.jpg'))!.license).toBe('GPL-3+');
    expect(dep5LicenseFor(parseDep5('Files: a/*\nLicense: MIT\n'), ['b/c'])).toBeUndefined();
  });
});

describe('photo selection helpers', () => {
  it('kphotoalbumAngles reads the clockwise angles from index.xml', () => {
    const xml = `<images><image file="a.jpg" angle="90" md5sum="x"/><image file="b.jpg" width="3"/>
      <image file="c.jpg" startDate="1" angle="270"></image><image file="d.jpg" angle="0"/><image file="e.jpg" angle="-90"/></images>`;
    expect([...kphotoalbumAngles(xml)]).toEqual([
      ['a.jpg', 90],
      ['c.jpg', 270],
      ['e.jpg', 270],
    ]);
  });

  /** Writes `files` (paths relative to a fresh temporary root; a trailing `@` makes a symlink) and returns the root. */
  const tree = (files: string[]): string => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-photos-'));
    for (const f of files) {
      const link = f.endsWith('@');
      const p = path.join(root, link ? f.slice(0, -1) : f);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      if (link) fs.symlinkSync('/dev/null', p);
      else fs.writeFileSync(p, f);
    }
    return root;
  };
  it('tuxpaintPhotoStamps keeps photographic stamps of animals, food and plants only', () => {
    const s = 'usr/share/tuxpaint/stamps';
    const root = tree([
      `${s}/animals/birds/crow.png`,
      `${s}/animals/birds/crow.txt`,
      `${s}/animals/insects/bee.png`,
      `${s}/animals/insects/bee.svg`, // a rendering of a vector drawing
      `${s}/animals/insects/cartoon/ladybug.png`, // drawings folder
      `${s}/animals/hedgehog.png`, // a drawing without an SVG twin
      `${s}/food/fruit/apple_red.png`,
      `${s}/food/fruit/link.png@`, // not a real file
      `${s}/plants/flowers/rose.PNG`,
      `${s}/symbols/heart.png`, // not a real-world category
      `${s}/town/roadsigns/stop.png`,
    ]);
    try {
      const found = tuxpaintPhotoStamps(root);
      expect(found.map((f) => f.out)).toEqual(['animals/birds/crow.png', 'food/fruit/apple_red.png', 'plants/flowers/rose.PNG']);
      expect(found[0]!.source).toBe(`${s}/animals/birds/crow.png`);
      expect(found[1]!.read().toString()).toBe(`${s}/food/fruit/apple_red.png`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
  it('plasmaPhotoWallpapers takes 1920x1080.jpg of each photograph, else its only image', () => {
    const w = 'usr/share/wallpapers';
    const root = tree([
      `${w}/Path/contents/images/1920x1080.jpg`,
      `${w}/Path/contents/images/2560x1600.jpg`,
      `${w}/ColorfulCups/contents/images/2560x1600.jpg`,
      `${w}/EveningGlow/contents/images/800x600.jpg`,
      `${w}/EveningGlow/contents/images/640x480.jpg`, // two images, no 1920x1080: skipped
      `${w}/Altai/contents/images/1920x1080.jpg`, // a rendering, not listed
    ]);
    try {
      const found = plasmaPhotoWallpapers(root);
      expect(found.map((f) => [f.out, f.source])).toEqual([
        ['ColorfulCups.jpg', `${w}/ColorfulCups/contents/images/2560x1600.jpg`],
        ['Path.jpg', `${w}/Path/contents/images/1920x1080.jpg`],
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  const rec = (set: 'train' | 'heldout', p: string, sha: string): PhotoRecord => ({ set, path: p, package: 'x', source: p, sha256: sha, bytes: 1, license: 'MIT' });
  it('checkDisjoint finds content shared by both sets and duplicate paths', () => {
    expect(checkDisjoint([rec('train', 'a', '1'), rec('heldout', 'b', '2')])).toEqual([]);
    expect(checkDisjoint([rec('train', 'a', '1'), rec('heldout', 'b', '1')])).toEqual(['same content in both sets: a and b']);
    expect(checkDisjoint([rec('train', 'a', '1'), rec('train', 'a', '2')])).toEqual(['duplicate path a']);
  });
  it('compareManifests reports changed, vanished and new files', () => {
    const m = (files: PhotoRecord[]): PhotoManifest => ({ format: 'disco-photos/1', packages: [], counts: { train: 0, heldout: 0 }, files });
    const changes = compareManifests(m([rec('train', 'a', '1'), rec('train', 'b', '2')]), m([rec('train', 'a', '9'), rec('heldout', 'c', '3')]));
    expect(changes).toEqual(['changed: train:a sha256 1… → 9…', 'vanished: train:b (x b)', 'new: heldout:c']);
  });

  it('the committed manifest has the pinned packages, 502 + 102 files, hashes, licenses and disjoint sets', () => {
    const m = JSON.parse(fs.readFileSync(path.join(here, '../data/photos-manifest.json'), 'utf8')) as PhotoManifest;
    expect(m.counts).toEqual({ train: 502, heldout: 102 });
    expect(m.packages.map((p) => `${p.name}=${p.used}`)).toEqual(PHOTO_PACKAGES.map((p) => `${p.name}=${p.version}`));
    for (const p of PHOTO_PACKAGES) expect(m.files.filter((f) => f.package === p.name).length, p.name).toBe(p.expected);
    expect(m.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && f.license.length > 0)).toBe(true);
    expect(checkDisjoint(m.files).filter((p) => !p.startsWith('duplicate content within'))).toEqual([]);
    expect(m.files.filter((f) => f.rotated).map((f) => [path.basename(f.path), f.rotated])).toEqual([
      ['grand_canyon_1.png', 180],
      ['new_wave_1.png', 90],
      ['pool_2.png', 270],
      ['wayne.png', 90],
    ]);
    expect(m.files.some((f) => /cartoon\/|tuxpaint.*\/(hedgehog|pizza)\.png|\/Altai|castleClinton|qt-logo|moon\.jpg|categorization\/.*(greatPyramid|colosseum|brandenburgGate)/.test(f.path))).toBe(false);
  });
});
