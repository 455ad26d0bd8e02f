/**
 * The one image lister of DISCO: which files count as images (the formats sharp decodes) and how
 * folders, globs and list files become a sorted list of them. Stage-1 training (`spixnet`),
 * stage-2 training (`PhotoDataset` of `@disco/photos`), batch
 * colorization and evaluation all list their inputs here, so they see the same images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandInputs, type FileSystem, type InputFile } from '@disco/runtime/node';

/** File extensions taken as images in folders and globs (lower case): the formats sharp decodes (it has no BMP reader). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif']);

/**
 * Whether `file` has one of {@link IMAGE_EXTENSIONS} (case-insensitive).
 *
 * @example
 * ```ts
 * isImageFile('a/B.JPG'); // true
 * isImageFile('a/b.bmp'); // false
 * ```
 */
export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/** Options of {@link expandImageInputs}. */
export interface ExpandImageInputsOptions {
  /** Folders whose contents are skipped (e.g. an output folder inside an input folder). */
  exclude?: readonly string[];
  /** Base of relative specs. Default `process.cwd()`. */
  cwd?: string;
  /** Read every existing file that is not an image as a list file, not only `.txt` / `.list`. Default false. */
  anyFileIsList?: boolean;
  /** File-system layer (tests inject faults). */
  fs?: FileSystem;
  /** Called with each glob that matches no image. */
  onEmptyGlob?: (spec: string) => void;
}

/**
 * The image files named by `specs` with their relative paths, without checks (a missing file is
 * returned for the caller to report): folders (recursively, sorted), globs, list files and single
 * files as `expandInputs` of `@disco/runtime/node` reads them, with {@link IMAGE_EXTENSIONS}.
 *
 * @example
 * ```ts
 * for (const { file, rel } of expandImageInputs(['photos/', 'more/*.png'], { exclude: ['photos/out'] })) console.log(rel, file);
 * ```
 */
export function expandImageInputs(specs: readonly string[], options: ExpandImageInputsOptions = {}): InputFile[] {
  return expandInputs(specs, { ...options, extensions: IMAGE_EXTENSIONS });
}

/**
 * The image files named by `spec` with their relative paths (see {@link listImages}); the
 * relative path is what `--shard` hashes and what merged feature files are matched by.
 *
 * @example
 * ```ts
 * const inputs = listImageInputs('val/'); // [{ file: '/abs/val/a/x.png', rel: 'a/x.png' }, …]
 * ```
 */
export function listImageInputs(spec: string): InputFile[] {
  const glob = /[*?[]/.test(spec) && !fs.existsSync(spec);
  if (!glob && !fs.existsSync(spec)) throw new Error(`listImages: '${spec}' does not exist`);
  const files = expandImageInputs([spec], { anyFileIsList: true });
  const isList = !glob && !fs.statSync(spec).isDirectory() && !isImageFile(spec);
  if (isList) for (const f of files) if (!fs.existsSync(f.file)) throw new Error(`listImages: '${f.file}' (listed in ${spec}) does not exist`);
  if (files.length === 0) throw new Error(`listImages: no images in '${spec}' (extensions: ${IMAGE_EXTENSIONS.join(' ')})`);
  return files;
}

/**
 * The image files named by `spec`: a folder (its image files, recursively, sorted by path), a
 * glob (`photos/**\/*.jpg`), an image file, or a text file with one path per line (relative
 * paths resolve against the list's folder; blank lines and lines starting with `#` are skipped).
 * Links are followed but each real folder is entered once, so a link loop lists each image once.
 * Throws a one-line error if nothing is found.
 *
 * @example
 * ```ts
 * const files = listImages('.cache/disco-photos/photos/heldout');
 * ```
 */
export function listImages(spec: string): string[] {
  return listImageInputs(spec).map((f) => f.file);
}
