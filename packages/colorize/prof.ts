import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { resolveDiscoConfig } from './src/model/config.js';
import { DiscoModel } from './src/model/disco.js';
import { Stage2Trainer } from './src/train/stage2.js';
import { loadNsfwInceptionStem } from './src/io/nsfw_inception.js';
await selectBackend({ backend: 'wasm' });
const model = DiscoModel.create(resolveDiscoConfig({}, 'tiny'));
const L = tf.randomUniform([8, 64, 64, 1], -1, 1) as tf.Tensor4D;
const ab = tf.randomUniform([8, 64, 64, 2], -0.3, 0.3) as tf.Tensor4D;
const tr = new Stage2Trainer(model, { steps: 100 }, loadNsfwInceptionStem());
for (let i = 0; i < 2; i++) tr.step({ L, ab }, i);
let t0 = performance.now(); tr.step({ L, ab }, 3); console.log('step with perceptual', (performance.now() - t0).toFixed(0));
const profile = await tf.profile(() => { tr.step({ L, ab }, 7); });
const agg = new Map<string, [number, number]>();
for (const k of profile.kernels) { const a = agg.get(k.name) ?? [0, 0]; a[0] += k.kernelTimeMs as number; a[1]++; agg.set(k.name, a); }
const tot = [...agg.values()].reduce((s, a) => s + a[0], 0);
console.log('total kernel ms', tot.toFixed(0), 'kernels', profile.kernels.length);
console.log([...agg.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 22).map(([k, v]) => `${k}:${v[0].toFixed(0)}ms/${v[1]}`).join('\n'));
