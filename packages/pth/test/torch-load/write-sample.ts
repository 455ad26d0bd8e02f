// Writes a sample checkpoint with writePth for check.py (torch.load must read it back exactly):
//   npx tsx packages/pth/test/torch-load/write-sample.ts /tmp/ours.pth && python3 packages/pth/test/torch-load/check.py /tmp/ours.pth
import { writeFileSync } from 'node:fs';
import { PyDict, PyTuple, TorchTensor, writePth } from '../../src/index.js';
const sd = new PyDict(null, 'collections.OrderedDict');
sd.set('w', { dtype: 'float32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6.5] });
sd.set('h', { dtype: 'float16', shape: [3], data: [0.1, -65504, 2 ** -24] });
sd.set('bf', { dtype: 'bfloat16', shape: [2], data: [1.5, -3] });
sd.set('n', { dtype: 'int64', shape: [], data: [2n ** 40n] });
sd.set('i', { dtype: 'int32', shape: [2], data: [-3, 4] });
sd.set('m', { dtype: 'bool', shape: [2], data: [true, false] });
sd.set('d', { dtype: 'float64', shape: [1], data: [0.1] });
sd.set('i8', { dtype: 'int8', shape: [2], data: [-128, 127] });
sd.set('u8', { dtype: 'uint8', shape: [2], data: [0, 255] });
sd.set('i16', { dtype: 'int16', shape: [1], data: [-30000] });
sd.set('empty', { dtype: 'float32', shape: [0, 3], data: [] });
const storage = { key: 's', dtype: 'float32' as const, numel: 12, bytes: new Uint8Array(Float32Array.from({ length: 12 }, (_, i) => i).buffer) };
sd.set('full', new TorchTensor(storage, [3, 4]));
sd.set('t', new TorchTensor(storage, [4, 3], [1, 4]));
sd.set('slice', new TorchTensor(storage, [2], [1], 9));
sd.attributes.set('_metadata', new PyDict([['', new PyDict([['version', 1]])]], 'collections.OrderedDict'));
const obj = {
  epoch: 7, state_dict: sd, best_loss: 0.25,
  optimizer: new PyDict([['state', new PyDict([[0, new PyDict([['step', 3]])]])], ['param_groups', [new PyDict([['betas', PyTuple.from([0.9, 0.999])], ['foreach', null], ['params', [0]]])]]]),
  misc: [new Set([1, 2]), new Uint8Array([0, 128, 255]), 2n ** 64n, -(2 ** 40), 'ünï', PyTuple.from([1, 2, 3, 4]), PyTuple.from([]), -0, 1e300],
  ns: new PyDict([['lr', 0.5]], 'argparse.Namespace'),
};
writeFileSync(process.argv[2] ?? 'ours.pth', writePth(obj, { archiveName: 'ours' }));
