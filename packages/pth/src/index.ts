/**
 * `@disco/pth`: reads PyTorch checkpoints (`torch.save`, zip and legacy formats) in Node and in
 * browsers, with no dependencies and without copying the file's bytes, and writes small
 * `torch.save`-compatible files for tests and tools.
 *
 * @packageDocumentation
 */
export { PthError, PyDict, PyTuple } from './py.js';
export { DTYPE_SIZE, TorchTensor, contiguousStride, type TorchDType, type TorchStorage, type TorchTypedArray } from './tensor.js';
export { readPth, stateDictOf, type ReadPthOptions } from './read.js';
export { writePth, type TensorSpec, type WritePthOptions } from './write.js';
