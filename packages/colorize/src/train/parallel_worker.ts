/**
 * A data-parallel training worker thread ({@link ParallelStage2Trainer}): selects its own tfjs
 * backend, builds its own copy of the model from the weights it was given, then answers each
 * shard with its gradients (in the order of `model.trainableVariables()`), its loss terms and its
 * batch-norm moving statistics, and takes the updated weights after every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackendForCli } from '@disco/runtime/node';
import { createColorizationModel } from '../model/baseline.js';
import { loadPretrainedFeatures } from '../model/pretrained.js';
// Registers the frozen InceptionV3 of `pretrainedFeatures` (configs that use it build it here too).
import '../io/nsfw_inception.js';
import { isMovingStatistic, type ParallelReply, type ParallelRequest, type ParallelWorkerInit } from './parallel.js';
import { Stage2Trainer } from './stage2.js';

const port = parentPort!;
const init = workerData as ParallelWorkerInit;
const reply = (m: ParallelReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const tensors = (w: Record<string, { data: Float32Array; shape: number[] }>) => Object.fromEntries(Object.entries(w).map(([n, p]) => [n, tf.tensor(p.data, p.shape, 'float32')]));

try {
  const conv = init.convolutions;
  await setupBackendForCli(init.backend, () => {}, { ...process.env, DISCO_CONV: conv.engine, ...(conv.engine === 'onnxruntime' ? { DISCO_CONV_THREADS: String(conv.threads) } : {}) });
  await loadPretrainedFeatures(init.config);
  const model = createColorizationModel(init.config);
  tf.tidy(() => model.setNamedWeights(tensors(init.weights)));
  const trainer = new Stage2Trainer(model, init.options, null);
  port.on('message', (m: ParallelRequest) => {
    try {
      if (m.kind === 'stop') {
        port.close();
      } else if (m.kind === 'weights') {
        tf.tidy(() => model.setNamedWeights(tensors(m.weights), { only: (n) => n in m.weights }));
      } else {
        const L = tf.tensor4d(m.L.data, m.L.shape as [number, number, number, number]);
        const ab = tf.tensor4d(m.ab.data, m.ab.shape as [number, number, number, number]);
        const { grads, losses } = trainer.gradients({ L, ab }, m.step);
        const data = grads.map((g) => (g ? (g.dataSync() as Float32Array).slice() : null)); // own buffers, safe to transfer on every backend
        const named = model.namedWeights();
        const stats = Object.fromEntries(Object.keys(named).filter(isMovingStatistic).map((n) => [n, { data: named[n]!.dataSync() as Float32Array, shape: named[n]!.shape.slice() }]));
        tf.dispose([L, ab, ...grads.filter((g): g is tf.Tensor => g !== null)]);
        reply({ kind: 'grads', grads: data, losses, stats }, data.flatMap((d) => (d ? [d.buffer as ArrayBuffer] : [])));
      }
    } catch (e) {
      reply({ kind: 'error', message: (e instanceof Error ? e.message : String(e)).split('\n')[0]! });
    }
  });
  reply({ kind: 'ready' });
} catch (e) {
  reply({ kind: 'error', message: (e instanceof Error ? e.message : String(e)).split('\n')[0]! });
}
