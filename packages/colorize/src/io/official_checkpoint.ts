/**
 * Reading a published DISCO checkpoint file (`torch.save`, zip or legacy format; the released
 * files are `{epoch, state_dict, best_loss, optimizer}`) into the model: the Node side of
 * `officialToNamedWeights`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readPth, stateDictOf, type TorchTensor } from '@disco/pth';
import type { DiscoModel } from '../model/disco.js';
import { officialModel } from '../model/official.js';

/** What {@link readOfficialCheckpoint} returns. */
export interface OfficialCheckpoint {
  /** The checkpoint's state dict (official key names, PyTorch layouts). */
  stateDict: Map<string, TorchTensor>;
  /** sha256 (hex) of the file. */
  sha256: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** With `build`: the published model loaded with these weights (the caller disposes it). */
  model?: DiscoModel;
}

/**
 * Reads a published DISCO checkpoint file (the file is read once; tensors are views into it until
 * converted). With `build`, also converts it into the published model. Errors are one line naming
 * the file: not a checkpoint, an unsupported pickle or dtype, a truncated storage, a missing,
 * unexpected or misshapen key.
 *
 * @param file A `.pth` / `.pth.tar` written by `torch.save`.
 * @param options `build`: convert into a {@link DiscoModel} too.
 *
 * @example
 * ```ts
* const { model, sha256 } = readOfficialCheckpoint('checkpoints/disco-c0.2.pth.tar', { build: true });
 * ```
 */
export function readOfficialCheckpoint(file: string, options: { build?: boolean } = {}): OfficialCheckpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const stateDict = stateDictOf(readPth(bytes, { source: file }), file);
  return { stateDict, sha256, bytes: bytes.length, ...(options.build ? { model: officialModel(stateDict, file) } : {}) };
}
