/**
 * The FID Inception network's weights from a file (Node): the PyTorch state dict that `pytorch-fid`
 * downloads (`pt_inception-2015-12-05-6726825d.pth`), read with the project's checkpoint reader,
 * named by its sha256.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readPth, stateDictOf } from '@disco/pth';
import type { StateTensorLike } from '../metrics/fid_inception.js';

/** A weights file read for the FID network: its state dict and the file's sha256 (hex). */
export interface FidInceptionWeightsFile {
  /** The file. */
  file: string;
  /** sha256 of the file's bytes (hex); its first 12 characters name the network in reports. */
  sha256: string;
  /** The state dict, by key. */
  stateDict: Map<string, StateTensorLike>;
}

/**
 * Reads a PyTorch state dict file (`.pth`, legacy or zip container, with `@disco/pth`) for
 * `FidInception.fromStateDict` and hashes it. The file is read once; tensors are views into it.
 *
 * @example
 * ```ts
 * const w = await loadFidInceptionStateDict('pt_inception-2015-12-05-6726825d.pth');
 * const net = FidInception.fromStateDict(w.stateDict); // named fid-inception:${w.sha256.slice(0, 12)}
 * ```
 */
export async function loadFidInceptionStateDict(file: string): Promise<FidInceptionWeightsFile> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message.split('\n')[0]}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // torch.save's zip or legacy container; a state dict at the top or under a `state_dict` key.
  const stateDict: Map<string, StateTensorLike> = stateDictOf(readPth(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { source: file }), file);
  return { file, sha256, stateDict };
}
