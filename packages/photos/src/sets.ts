/**
 * Where the project's photo sets live and a one-call way to get them: the cache folder, the
 * committed manifest the fetch is verified against, and {@link defaultPhotoSets}.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchPhotos, type FetchPhotosResult } from './photos.js';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The manifest shipped with this package (`data/photos-manifest.json`): file hashes, licenses, counts. */
export const PHOTOS_MANIFEST: string = path.join(PACKAGE_ROOT, 'data', 'photos-manifest.json');

/**
 * The default cache folder of the photo sets: `<workspace>/.cache/disco-photos` when this package
 * sits inside an Nx workspace (a folder above it holds `nx.json`), else `~/.cache/disco-photos`.
 *
 * @example
 * ```ts
 * defaultPhotoCache(); // '/home/me/disco/.cache/disco-photos' in a checkout
 * ```
 */
export function defaultPhotoCache(): string {
  for (let d = PACKAGE_ROOT; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'nx.json'))) return path.join(d, '.cache', 'disco-photos');
    if (path.dirname(d) === d) return path.join(os.homedir(), '.cache', 'disco-photos');
  }
}

/** Options of {@link defaultPhotoSets}. */
export interface DefaultPhotoSetsOptions {
  /** Cache folder. Default {@link defaultPhotoCache}. */
  cacheDir?: string;
  /** Progress lines of a fetch. Default: stderr. */
  log?: (line: string) => void;
}

/** The photo sets of {@link defaultPhotoSets}. */
export interface DefaultPhotoSets {
  /** List file of the training photos (`<cache>/train.txt`). */
  train: string;
  /** List file of the held-out photos (`<cache>/heldout.txt`). */
  heldout: string;
  /** The cache folder. */
  cacheDir: string;
  /** The fetch result (manifest, whether it came from the cache, differences from {@link PHOTOS_MANIFEST}). */
  fetched: FetchPhotosResult;
}

/**
 * The project's training and held-out photographs as list files, fetched from Debian's archive
 * on first use ({@link fetchPhotos}, verified against {@link PHOTOS_MANIFEST}) and from the
 * cache afterwards.
 *
 * @example
 * ```ts
 * const { train, heldout } = await defaultPhotoSets();
 * const ds = await PhotoDataset.create({ sources: [train], size: 64, output: 'lab' });
 * ```
 */
export async function defaultPhotoSets(options: DefaultPhotoSetsOptions = {}): Promise<DefaultPhotoSets> {
  const cacheDir = path.resolve(options.cacheDir ?? defaultPhotoCache());
  const fetched = await fetchPhotos({ cacheDir, referenceManifest: PHOTOS_MANIFEST, ...(options.log ? { log: options.log } : {}) });
  return { train: path.join(cacheDir, 'train.txt'), heldout: path.join(cacheDir, 'heldout.txt'), cacheDir, fetched };
}
