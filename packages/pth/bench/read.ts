// Times writePth / readPth / toFloat32 on a 168 MB float32 state dict (40 tensors of 1024×1024).
//   npx tsx packages/pth/bench/read.ts
import { PyDict, readPth, stateDictOf, writePth } from '../src/index.js';

const sd = new PyDict(null, 'collections.OrderedDict');
for (let i = 0; i < 40; i++) sd.set(`layer${i}.weight`, { dtype: 'float32', shape: [1024, 1024], data: new Float32Array(1 << 20).fill(i) });
let t = performance.now();
const bytes = writePth(sd);
const writeMs = performance.now() - t;
t = performance.now();
const weights = stateDictOf(readPth(bytes, { source: 'bench.pth' }));
const readMs = performance.now() - t;
t = performance.now();
let checksum = 0;
for (const w of weights.values()) checksum += w.toFloat32()[7]!;
const convertMs = performance.now() - t;
const copies = [...weights.values()].filter((w) => w.storage.bytes.buffer !== bytes.buffer).length;
console.log(
  `${(bytes.length / 1e6).toFixed(1)} MB, ${weights.size} tensors: writePth ${writeMs.toFixed(0)} ms, readPth ${readMs.toFixed(1)} ms ` +
    `(${copies} storages copied), toFloat32 of all ${convertMs.toFixed(0)} ms (checksum ${checksum})`,
);
