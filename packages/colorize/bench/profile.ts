/**
 * Kernel profile of the two benchmark workloads: wall time per tfjs kernel (exclusive of nested
 * kernel calls), grouped by kernel name and input shapes, on the selected backend.
 *
 *   node --conditions=@disco/source --import tsx bench/profile.ts [tiny|paper] [--top 40]
 *
 * wasm kernels run synchronously, so the wall time of `kernelFunc` is the kernel's time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setupBackendForCli } from '@disco/runtime/node';
import { resolveDiscoConfig } from '../src/model/config.js';
import { DiscoModel } from '../src/model/disco.js';
import { Stage2Trainer } from '../src/train/stage2.js';

interface Row {
  calls: number;
  ms: number;
}

const which = process.argv[2] === 'paper' ? 'paper' : 'tiny';
const topIdx = process.argv.indexOf('--top');
const top = topIdx >= 0 ? Number(process.argv[topIdx + 1]) : 40;
const backend = await setupBackendForCli(undefined, () => {});
const rows = new Map<string, Row>();
const byName = new Map<string, Row>();
let recording = false;
const stack: number[] = []; // child time accumulated per open frame
for (const k of tf.getKernelsForBackend(backend.name)) {
  const inner = k.kernelFunc;
  (k as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
    if (!recording) return inner(args);
    stack.push(0);
    const t0 = performance.now();
    const out = inner(args);
    const dt = performance.now() - t0;
    const child = stack.pop()!;
    if (stack.length > 0) stack[stack.length - 1]! += dt;
    const ins = Object.entries(args.inputs)
      .map(([n, t]) => `${n}[${(t as tf.TensorInfo | undefined)?.shape?.join(',') ?? ''}]`)
      .join(' ');
    const attrs = (args.attrs ?? {}) as Record<string, unknown>;
    const extra = ['transposeA', 'transposeB', 'strides', 'filterShape'].filter((a) => attrs[a] !== undefined).map((a) => `${a}=${JSON.stringify(attrs[a])}`).join(' ');
    const key = `${k.kernelName} ${ins} ${extra}`;
    const r = rows.get(key) ?? { calls: 0, ms: 0 };
    r.calls++;
    r.ms += dt - child;
    rows.set(key, r);
    const rn = byName.get(k.kernelName) ?? { calls: 0, ms: 0 };
    rn.calls++;
    rn.ms += dt - child;
    byName.set(k.kernelName, rn);
    return out;
  };
}

let total = 0;
const reps = 2;
if (which === 'tiny') {
  const tiny = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
  const L = tf.randomUniform([8, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
  const ab = tf.randomUniform([8, 64, 64, 2], -0.4, 0.4, 'float32', 2) as tf.Tensor4D;
  const tr = new Stage2Trainer(tiny, { steps: 100, perceptualWeight: 0 });
  tr.step({ L, ab }, 0);
  recording = true;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tr.step({ L, ab }, 1 + i);
  total = (performance.now() - t0) / reps;
} else {
  const paper = DiscoModel.create(resolveDiscoConfig({}, 'paper'));
  const Lp = tf.randomUniform([1, 256, 256, 1], -1, 1, 'float32', 4) as tf.Tensor4D;
  const infer = () => {
    const out = paper.forward(Lp, null, { colors: { kind: 'sampled', variant: 0 } });
    out.ab.dataSync();
    tf.dispose(Object.values(out).filter((t) => t) as tf.Tensor[]);
  };
  infer();
  recording = true;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) infer();
  total = (performance.now() - t0) / reps;
}
recording = false;
const sum = [...byName.values()].reduce((a, r) => a + r.ms, 0) / reps;
console.log(`${which}: ${total.toFixed(0)} ms per run, ${sum.toFixed(0)} ms in kernels (${((100 * sum) / total).toFixed(0)} %)`);
console.log('\nby kernel:');
for (const [k, r] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${(r.ms / reps).toFixed(1).padStart(9)} ms ${String(r.calls / reps).padStart(6)}×  ${k}`);
}
console.log('\nby kernel and shapes:');
for (const [k, r] of [...rows].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
  console.log(`${(r.ms / reps).toFixed(1).padStart(9)} ms ${String(r.calls / reps).padStart(6)}×  ${k}`);
}
