/**
 * The real-photograph sets of DISCO's experiments, fetched from Debian's archive with
 * `apt-get download` + `dpkg-deb -x` into a cache folder (no system install), with file lists,
 * licenses and content hashes. Node-only; driven by `src/cli/fetch.ts` (`npx nx run photos:fetch`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { listFilesRecursive, writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
import { dep5LicenseFor, parseDep5 } from './dep5.js';
import { readRcc } from './rcc.js';

/** Which list a photograph belongs to. */
export type PhotoSet = 'train' | 'heldout';

/** A candidate file found in an extracted package. */
interface Found {
  /** Path shown in the manifest: the path in the package, or `<rcc path>!<entry>` for bundles. */
  source: string;
  /** Output path relative to `photos/<set>/<package>/`. */
  out: string;
  /** Bytes as shipped. */
  read: () => Buffer;
  /** Clockwise rotation (degrees) applied before writing; the output is then PNG. */
  rotate?: number;
}

/** One pinned Debian package and how to pick its photographs. */
export interface PhotoPackage {
  /** Debian package name. */
  name: string;
  /** Pinned version (`apt-get download name=version`). */
  version: string;
  /** Which list its photographs go to. */
  set: PhotoSet;
  /** How many photographs the selection is expected to yield. */
  expected: number;
  /** Human description of the selection rule. */
  rule: string;
  /** Lists the selected files under an extracted package root. */
  select: (root: string) => Found[];
}

function listFiles(dir: string, re: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && re.test(d.name)) // real files only: symlinks are skipped
    .map((d) => d.name)
    .sort();
}

function plainFiles(root: string, dir: string, re: RegExp, exclude: readonly string[] = [], sub = ''): Found[] {
  return listFiles(path.join(root, dir), re)
    .filter((n) => !exclude.includes(n))
    .map((n) => ({ source: `${dir}/${n}`, out: sub ? `${sub}/${n}` : n, read: () => fs.readFileSync(path.join(root, dir, n)) }));
}

const GCOMPRIS_ACTIVITIES = ['erase', 'explore_monuments', 'explore_world_animals', 'explore_farm_animals', 'explore_world_music', 'categorization'];
/** Skipped gcompris photographs: black and white, and categorization copies of explore_monuments. */
const GCOMPRIS_SKIP = [/\/castleClinton\.[a-z]+$/, /categorization\/.*\/(greatPyramid|brandenburgGate|colosseum)\.[a-z]+$/];

/** Scratch backgrounds (`*.jpg`) that are drawings, not photographs, and the grey moon. */
const SCRATCH_EXCLUDE: Record<string, string[]> = {
  Indoors: ['party-room.jpg', 'room1.jpg', 'room2.jpg', 'room3.jpg', 'spotlight-stage.jpg'],
  Nature: ['moon.jpg', 'woods-and-bench.jpg'],
  Outdoors: ['brick-wall1.jpg', 'school2.jpg'],
  Sports: [],
};

/** Tux Paint stamp categories of real-world objects (the rest are symbols, signs and flags). */
const TUXPAINT_CATEGORIES = ['animals', 'food', 'plants'];
/** Tux Paint stamps outside `cartoon/` folders, without an SVG twin, that are still drawings. */
const TUXPAINT_DRAWINGS = ['hedgehog.png', 'pizza.png'];

/**
 * The photographic Tux Paint stamps: PNG cut-outs of animals, food and plants, recursively, not
 * under a `cartoon/` folder and without a same-named `.svg` beside them (those are renderings of
 * vector drawings). Real files only. Their transparent surround is composited over white when
 * read (as every reader of the project does), a neutral background with ab = 0.
 */
export function tuxpaintPhotoStamps(root: string): Found[] {
  const base = path.join(root, 'usr/share/tuxpaint/stamps');
  return TUXPAINT_CATEGORIES.flatMap((c) =>
    listFilesRecursive(path.join(base, c), { filter: (n) => /\.png$/i.test(n) && !TUXPAINT_DRAWINGS.includes(n) })
      .filter((f) => !fs.lstatSync(f).isSymbolicLink() && !fs.existsSync(f.replace(/\.png$/i, '.svg')))
      .map((f) => path.relative(base, f).split(path.sep).join('/'))
      .filter((r) => !r.split('/').includes('cartoon'))
      .map((r) => ({ source: `usr/share/tuxpaint/stamps/${r}`, out: r, read: () => fs.readFileSync(path.join(base, r)) })),
  );
}

/** The Plasma wallpapers that are photographs (the others are renderings, drawings, or grey). */
const PLASMA_PHOTOS = ['BytheWater', 'ColorfulCups', 'DarkestHour', 'EveningGlow', 'FallenLeaf', 'OneStandsOut', 'Path', 'summer_1am'];

/** One image per photographic Plasma wallpaper: `1920x1080.jpg`, else the only image it ships. */
export function plasmaPhotoWallpapers(root: string): Found[] {
  return PLASMA_PHOTOS.flatMap((name) => {
    const dir = `usr/share/wallpapers/${name}/contents/images`;
    const all = listFiles(path.join(root, dir), /\.jpg$/i);
    const pick = all.includes('1920x1080.jpg') ? '1920x1080.jpg' : all.length === 1 ? all[0] : undefined;
    return pick ? [{ source: `${dir}/${pick}`, out: `${name}.jpg`, read: () => fs.readFileSync(path.join(root, dir, pick)) }] : [];
  });
}

/** Reads the clockwise display angle of each image from KPhotoAlbum's demo `index.xml`. */
export function kphotoalbumAngles(xml: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of xml.matchAll(/<image\s[^>]*>/g)) {
    const file = /\sfile="([^"]+)"/.exec(m[0])?.[1];
    const angle = /\sangle="(-?\d+)"/.exec(m[0])?.[1];
    if (file && angle && Number(angle) % 360 !== 0) out.set(file, ((Number(angle) % 360) + 360) % 360);
  }
  return out;
}

/** The pinned packages and selection rules of issue 3. */
export const PHOTO_PACKAGES: readonly PhotoPackage[] = Object.freeze([
  {
    name: 'gcompris-qt-data',
    version: '3.1-2',
    set: 'train',
    expected: 253,
    rule: `photos (.webp/.jpg/.png) under resource/ of ${GCOMPRIS_ACTIVITIES.join(', ')} in usr/share/gcompris-qt/rcc/*.rcc; without castleClinton and the categorization copies of greatPyramid, brandenburgGate, colosseum`,
    select: (root) =>
      GCOMPRIS_ACTIVITIES.flatMap((a) => {
        const rel = `usr/share/gcompris-qt/rcc/${a}.rcc`;
        const file = path.join(root, rel);
        if (!fs.existsSync(file)) return [];
        return readRcc(fs.readFileSync(file), rel)
          .filter((e) => new RegExp(`/activities/${a}/resource/.*\\.(webp|jpg|png)$`, 'i').test(e.path))
          .filter((e) => !GCOMPRIS_SKIP.some((re) => re.test(e.path)))
          .map((e) => ({ source: `${rel}!${e.path}`, out: `${a}/${e.path.split(`/activities/${a}/resource/`)[1]}`, read: () => e.read() }));
      }),
  },
  {
    name: 'lomiri-wallpapers-16.04',
    version: '20.04.0-2',
    set: 'train',
    expected: 15,
    rule: 'usr/share/backgrounds/*.jpg',
    select: (root) => plainFiles(root, 'usr/share/backgrounds', /\.jpg$/i),
  },
  {
    name: 'mate-backgrounds',
    version: '1.26.0-1',
    set: 'train',
    expected: 12,
    rule: 'usr/share/backgrounds/mate/nature/*.jpg',
    select: (root) => plainFiles(root, 'usr/share/backgrounds/mate/nature', /\.jpg$/i),
  },
  {
    name: 'tuxpaint-stamps-default',
    version: '2022.06.04-1',
    set: 'train',
    expected: 214,
    rule: `PNG stamps under usr/share/tuxpaint/stamps/{${TUXPAINT_CATEGORIES.join(',')}}/ (recursive), not under cartoon/, without a same-named .svg, except the drawings ${TUXPAINT_DRAWINGS.join(', ')}; photographic cut-outs, read over white`,
    select: tuxpaintPhotoStamps,
  },
  {
    name: 'plasma-workspace-wallpapers',
    version: '4:5.27.5-2',
    set: 'train',
    expected: 8,
    rule: `usr/share/wallpapers/{${PLASMA_PHOTOS.join(',')}}/contents/images/1920x1080.jpg (ColorfulCups: its only image), written as <name>.jpg`,
    select: plasmaPhotoWallpapers,
  },
  {
    name: 'scratch',
    version: '1.4.0.6~dfsg1-6.1',
    set: 'heldout',
    expected: 52,
    rule: 'usr/share/scratch/Media/Backgrounds/{Indoors,Nature,Outdoors,Sports}/*.jpg except 8 drawings (party-room, room1-3, spotlight-stage, woods-and-bench, brick-wall1, school2) and the grey moon',
    select: (root) =>
      Object.entries(SCRATCH_EXCLUDE).flatMap(([dir, ex]) => plainFiles(root, `usr/share/scratch/Media/Backgrounds/${dir}`, /\.jpg$/i, ex, dir)),
  },
  {
    name: 'kphotoalbum',
    version: '5.9.1-1',
    set: 'heldout',
    expected: 23,
    rule: 'usr/share/kphotoalbum/demo/*.jpg except qt-logo.jpg; rotated by the angle in demo/index.xml (written as PNG)',
    select: (root) => {
      const xml = path.join(root, 'usr/share/kphotoalbum/demo/index.xml');
      const angles = fs.existsSync(xml) ? kphotoalbumAngles(fs.readFileSync(xml, 'utf8')) : new Map<string, number>();
      return plainFiles(root, 'usr/share/kphotoalbum/demo', /\.jpg$/i, ['qt-logo.jpg']).map((f) => {
        const angle = angles.get(path.basename(f.source));
        return angle ? { ...f, out: f.out.replace(/\.jpg$/i, '.png'), rotate: angle } : f;
      });
    },
  },
  {
    name: 'gnome-control-center-data',
    version: '1:43.6-2~deb12u1',
    set: 'heldout',
    expected: 15,
    rule: 'usr/share/pixmaps/faces/*.jpg, real files only (not the symlinks into legacy/)',
    select: (root) => plainFiles(root, 'usr/share/pixmaps/faces', /\.jpg$/i),
  },
  {
    name: 'palapeli-data',
    version: '4:22.12.3-1',
    set: 'heldout',
    expected: 5,
    rule: 'usr/share/palapeli/collection/*.jpg',
    select: (root) => plainFiles(root, 'usr/share/palapeli/collection', /\.jpg$/i),
  },
  {
    name: 'python3-skimage',
    version: '0.19.3-8',
    set: 'heldout',
    expected: 5,
    rule: 'skimage/data/ astronaut, chelsea, coffee, motorcycle_left, rocket',
    select: (root) =>
      plainFiles(root, 'usr/lib/python3/dist-packages/skimage/data', /^(astronaut|chelsea|coffee|motorcycle_left|rocket)\.(png|jpg)$/),
  },
  {
    name: 'python3-sklearn',
    version: '1.2.1+dfsg-1',
    set: 'heldout',
    expected: 2,
    rule: 'sklearn/datasets/images/ china, flower',
    select: (root) => plainFiles(root, 'usr/lib/python3/dist-packages/sklearn/datasets/images', /^(china|flower)\.jpg$/),
  },
]);

/** One selected photograph in the manifest. */
export interface PhotoRecord {
  /** Which list it is in. */
  set: PhotoSet;
  /** Output path relative to the cache folder (what the list files contain). */
  path: string;
  /** Debian package it came from. */
  package: string;
  /** Where it is inside the package (`<rcc>!<entry>` for Qt resource bundles). */
  source: string;
  /** sha256 of the bytes as shipped in the package. */
  sha256: string;
  /** Size in bytes as shipped. */
  bytes: number;
  /** Clockwise rotation applied (degrees), if any; the output is then a PNG. */
  rotated?: number;
  /** License short name from the package's `copyright` file. */
  license: string;
}

/** The manifest written to the cache (and, with `--write-manifest`, into the package). */
export interface PhotoManifest {
  /** Format marker. */
  format: 'disco-photos/1';
  /** Packages and the versions actually used. */
  packages: { name: string; pinned: string; used: string; set: PhotoSet; rule: string; count: number; copyright: string }[];
  /** Number of files per list. */
  counts: Record<PhotoSet, number>;
  /** Every selected file. */
  files: PhotoRecord[];
}

/** Options of {@link fetchPhotos}. */
export interface FetchPhotosOptions {
  /** Cache folder (e.g. `<workspace>/.cache/disco-photos`). */
  cacheDir: string;
  /** Committed manifest to verify against (hashes, counts); skipped when absent. */
  referenceManifest?: string;
  /** Rebuild even if the cache looks complete. */
  force?: boolean;
  /** Accept files that differ from the reference manifest (they are still reported). */
  acceptChanges?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Result of {@link fetchPhotos}. */
export interface FetchPhotosResult {
  /** The manifest (from the cache when it was already complete). */
  manifest: PhotoManifest;
  /** Whether everything came from the cache without downloading or extracting. */
  cached: boolean;
  /** Differences from the reference manifest, one line each. */
  changes: string[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`fetchPhotos: '${cmd}' is not available on this machine (Debian/Ubuntu apt is required); pass --data <folder> with any folder of photographs instead`);
    }
    throw new Error(`fetchPhotos: ${cmd}: ${r.error.message}`);
  }
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function debFileName(name: string, version: string, dir: string): string | undefined {
  const v = version.replace(/:/g, '%3a');
  return fs.readdirSync(dir).find((f) => f.startsWith(`${name}_${v}_`) && f.endsWith('.deb'));
}

function candidateVersion(name: string, cwd: string): string | undefined {
  const r = run('apt-cache', ['policy', name], cwd);
  const m = /Candidate:\s*(\S+)/.exec(r.out);
  return m && m[1] !== '(none)' ? m[1] : undefined;
}

let aptUpdated = false;

/** The tools a fetch runs: Debian's apt and dpkg. */
export const PHOTO_FETCH_TOOLS: readonly string[] = Object.freeze(['apt-get', 'apt-cache', 'dpkg-deb']);

/** Throws one line naming the missing tools when any of {@link PHOTO_FETCH_TOOLS} is absent. */
function requireTools(cwd: string): void {
  const missing = PHOTO_FETCH_TOOLS.filter((t) => (spawnSync(t, ['--version'], { cwd, encoding: 'utf8' }).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT');
  if (missing.length > 0) {
    throw new Error(
      `fetchPhotos: the photo sets come from Debian's archive and need ${PHOTO_FETCH_TOOLS.join(', ')}; missing here: ${missing.join(', ')}. Use your own photos instead (disco-experiments ablation: --data <folder> --heldout <folder>; training: --data <folder>)`,
    );
  }
}

/** Size in bytes of `name=version`'s .deb from the local apt lists, or null when they lack it. */
function debSize(name: string, version: string, cwd: string): number | null {
  const r = spawnSync('apt-cache', ['show', `${name}=${version}`], { cwd, encoding: 'utf8' });
  const m = /^Size:\s*(\d+)/m.exec(r.stdout ?? '');
  return m ? Number(m[1]) : null;
}

/** `1.10 GB`, `46.6 MB`. */
function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** What a first fetch downloads in all, for the announcement when apt's lists cannot say. */
export const PHOTO_DOWNLOAD_ESTIMATE = 'about 1.1 GB';

/** Downloads one package (pinned version, else the current one) into `debs/`; returns the version used. */
function download(pkg: PhotoPackage, debs: string, log: (l: string) => void): string {
  if (debFileName(pkg.name, pkg.version, debs)) return pkg.version;
  let r = run('apt-get', ['download', `${pkg.name}=${pkg.version}`], debs);
  if (r.ok) return pkg.version;
  if (/Unable to locate|Version .* was not found|Can't select|no installation candidate/i.test(r.out) && !aptUpdated) {
    aptUpdated = true;
    log(`apt lists lack ${pkg.name}=${pkg.version}; running apt-get update`);
    const u = run('apt-get', ['update'], debs);
    if (!u.ok) log(`apt-get update failed (${u.out.split('\n').pop()}); continuing`);
    r = run('apt-get', ['download', `${pkg.name}=${pkg.version}`], debs);
    if (r.ok) return pkg.version;
  }
  const current = candidateVersion(pkg.name, debs);
  if (!current) throw new Error(`fetchPhotos: cannot download ${pkg.name}=${pkg.version} and apt knows no other version: ${r.out.split('\n').pop()}`);
  log(`WARNING: ${pkg.name}=${pkg.version} is no longer served; using ${current} and checking hashes`);
  if (!debFileName(pkg.name, current, debs)) {
    r = run('apt-get', ['download', `${pkg.name}=${current}`], debs);
    if (!r.ok) throw new Error(`fetchPhotos: apt-get download ${pkg.name}=${current} failed: ${r.out.split('\n').pop()}`);
  }
  return current;
}

function extract(deb: string, dest: string): void {
  if (fs.existsSync(path.join(dest, '.extracted'))) return;
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  execFileSync('dpkg-deb', ['-x', deb, dest]);
  fs.writeFileSync(path.join(dest, '.extracted'), '');
}

function licenseOf(root: string, pkg: string, source: string): { license: string; file: string } {
  const rel = `usr/share/doc/${pkg}/copyright`;
  const file = path.join(root, rel);
  if (!fs.existsSync(file)) return { license: 'unknown (no copyright file)', file: rel };
  const text = fs.readFileSync(file, 'utf8');
  // Every tail of the path, so `Files:` globs written against upstream source paths match too.
  const inner = source.includes('!') ? source.split('!')[1]! : source;
  const parts = inner.split('/');
  const candidates = parts.map((_, i) => parts.slice(i).join('/'));
  const para = dep5LicenseFor(parseDep5(text), candidates);
  if (para) return { license: para.license, file: rel };
  const line = text.split('\n').find((l) => /licen[cs]e/i.test(l));
  const short = line ? /^\s*License:\s*(\S.*)$/i.exec(line)?.[1] : undefined;
  return { license: short ?? (line ? `see copyright: ${line.trim().slice(0, 120)}` : 'see copyright file'), file: rel };
}

function readManifest(file: string): PhotoManifest | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PhotoManifest;
}

function cacheComplete(cacheDir: string, m: PhotoManifest | undefined): boolean {
  if (!m) return false;
  if (!['train.txt', 'heldout.txt'].every((f) => fs.existsSync(path.join(cacheDir, f)))) return false;
  return m.files.every((f) => fs.existsSync(path.join(cacheDir, f.path)));
}

/** Differences between two manifests by (set, path): changed hashes, vanished and new files. */
export function compareManifests(reference: PhotoManifest, actual: PhotoManifest): string[] {
  const key = (f: PhotoRecord): string => `${f.set}:${f.path}`;
  const ref = new Map(reference.files.map((f) => [key(f), f]));
  const act = new Map(actual.files.map((f) => [key(f), f]));
  const out: string[] = [];
  for (const [k, f] of ref) {
    const a = act.get(k);
    if (!a) out.push(`vanished: ${k} (${f.package} ${f.source})`);
    else if (a.sha256 !== f.sha256) out.push(`changed: ${k} sha256 ${f.sha256.slice(0, 12)}… → ${a.sha256.slice(0, 12)}…`);
  }
  for (const k of act.keys()) if (!ref.has(k)) out.push(`new: ${k}`);
  return out;
}

/** Checks that no file is in both lists, by path and by content hash; returns problems. */
export function checkDisjoint(files: readonly PhotoRecord[]): string[] {
  const problems: string[] = [];
  const byHash = new Map<string, PhotoRecord>();
  const paths = new Set<string>();
  for (const f of files) {
    if (paths.has(f.path)) problems.push(`duplicate path ${f.path}`);
    paths.add(f.path);
    const other = byHash.get(f.sha256);
    if (other && other.set !== f.set) problems.push(`same content in both sets: ${other.path} and ${f.path}`);
    else if (other) problems.push(`duplicate content within ${f.set}: ${other.path} and ${f.path}`);
    byHash.set(f.sha256, f);
  }
  return problems;
}

/**
 * Fetches (or finds in the cache) the training and held-out photographs and writes
 * `train.txt`, `heldout.txt` (paths relative to the cache folder) and `manifest.json` there.
 * A second call with a complete cache returns at once.
 */
export async function fetchPhotos(options: FetchPhotosOptions): Promise<FetchPhotosResult> {
  const { cacheDir, force = false, acceptChanges = false, log = (l) => process.stderr.write(`${l}\n`) } = options;
  const manifestFile = path.join(cacheDir, 'manifest.json');
  const reference = options.referenceManifest ? readManifest(options.referenceManifest) : undefined;
  const existing = readManifest(manifestFile);
  if (!force && existing && cacheComplete(cacheDir, existing)) {
    return { manifest: existing, cached: true, changes: reference ? compareManifests(reference, existing) : [] };
  }
  const debs = path.join(cacheDir, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  requireTools(debs); // one line naming what is missing, before anything is downloaded
  const todo = PHOTO_PACKAGES.filter((p) => !debFileName(p.name, p.version, debs));
  const sizes = new Map(todo.map((p) => [p.name, debSize(p.name, p.version, debs)]));
  if (todo.length > 0) {
    const known = [...sizes.values()].every((b) => b != null) ? formatBytes([...sizes.values()].reduce<number>((a, b) => a + b!, 0)) : PHOTO_DOWNLOAD_ESTIMATE;
    log(
      `photos: downloading ${todo.length} Debian package${todo.length === 1 ? '' : 's'} (${known}) with apt-get into ${debs}, then extracting the photo sets into ${cacheDir} — once: later runs use the cache. \`npx nx run photos:fetch\` does this as its own step.`,
    );
  }
  const files: PhotoRecord[] = [];
  const packages: PhotoManifest['packages'] = [];
  for (const [i, pkg] of PHOTO_PACKAGES.entries()) {
    if (sizes.has(pkg.name)) {
      const b = sizes.get(pkg.name);
      log(`photos: [${i + 1}/${PHOTO_PACKAGES.length}] downloading ${pkg.name}=${pkg.version}${b != null ? ` (${formatBytes(b)})` : ''}…`);
    }
    const used = download(pkg, debs, log);
    const deb = debFileName(pkg.name, used, debs)!;
    const root = path.join(cacheDir, 'extract', `${pkg.name}_${used.replace(/:/g, '%3a')}`);
    extract(path.join(debs, deb), root);
    const found = pkg.select(root);
    if (found.length !== pkg.expected) log(`WARNING: ${pkg.name}: selected ${found.length} files, expected ${pkg.expected}`);
    const outDir = path.join(cacheDir, 'photos', pkg.set, pkg.name);
    fs.rmSync(outDir, { recursive: true, force: true });
    let copyright = '';
    for (const f of found) {
      const bytes = f.read();
      const rel = path.posix.join('photos', pkg.set, pkg.name, f.out);
      const dest = path.join(cacheDir, rel);
      if (f.rotate) writeFileAtomic(dest, await sharp(bytes).rotate(f.rotate).png().toBuffer());
      else writeFileAtomic(dest, bytes);
      const lic = licenseOf(root, pkg.name, f.source);
      copyright = lic.file;
      files.push({
        set: pkg.set,
        path: rel,
        package: pkg.name,
        source: f.source,
        sha256: sha256(bytes),
        bytes: bytes.length,
        ...(f.rotate ? { rotated: f.rotate } : {}),
        license: lic.license,
      });
    }
    packages.push({ name: pkg.name, pinned: pkg.version, used, set: pkg.set, rule: pkg.rule, count: found.length, copyright });
    log(`${pkg.name}=${used}: ${found.length} ${pkg.set} photos`);
  }
  const problems = checkDisjoint(files);
  if (problems.some((p) => p.startsWith('same content in both') || p.startsWith('duplicate path'))) {
    throw new Error(`fetchPhotos: train and held-out sets overlap: ${problems.join('; ')}`);
  }
  for (const p of problems) log(`note: ${p}`);
  const manifest: PhotoManifest = {
    format: 'disco-photos/1',
    packages,
    counts: { train: files.filter((f) => f.set === 'train').length, heldout: files.filter((f) => f.set === 'heldout').length },
    files,
  };
  const changes = reference ? compareManifests(reference, manifest) : [];
  if (changes.length > 0 && !acceptChanges) {
    throw new Error(`fetchPhotos: ${changes.length} file(s) differ from ${options.referenceManifest}: ${changes.slice(0, 5).join('; ')}${changes.length > 5 ? '; …' : ''} (rerun with --accept-changes to use them anyway)`);
  }
  for (const set of ['train', 'heldout'] as const) {
    writeFileAtomic(path.join(cacheDir, `${set}.txt`), files.filter((f) => f.set === set).map((f) => `${f.path}\n`).join(''));
  }
  writeJsonAtomic(manifestFile, manifest);
  return { manifest, cached: false, changes };
}
