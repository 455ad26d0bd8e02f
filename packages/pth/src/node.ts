/**
 * `@disco/pth/node`: the Node entry point, adding file reading to `@disco/pth`.
 *
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { PthError } from './py.js';
import { readPth } from './read.js';

/**
 * Reads a `torch.save` file from disk: {@link readPth} on the file's bytes, read once into one
 * buffer (storages are views into it). Errors name `path`.
 *
 * @param path the checkpoint file.
 * @returns the unpickled object, as {@link readPth} returns it.
 *
 * @example
 * ```ts
 * import { stateDictOf } from '@disco/pth';
 * import { readPthFile } from '@disco/pth/node';
 *
 * const weights = stateDictOf(await readPthFile('pt_inception-2015-12-05-6726825d.pth'));
 * console.log(weights.size, weights.get('Conv2d_1a_3x3.conv.weight')?.shape);
 * ```
 */
export async function readPthFile(path: string): Promise<unknown> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new PthError(path, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readPth(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), { source: path });
}
