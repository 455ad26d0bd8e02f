// Benchmark: images/s of the tfjs FID Inception network (pytorch-fid's InceptionV3) at 299x299,
// with convolutions on onnxruntime-node and on the wasm kernels, plus pytorch-fid's preprocessing.
// Weights: the parity fixture's rule weights (values do not change the speed). Writes
// bench/fid-inception-results.json. PyTorch's torchvision InceptionV3 is timed beside it when
// `python3 -c 'import torch, torchvision'` works on this machine.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@disco/runtime';
import { collectRunInfo, disableNativeConvolutions, enableNativeConvolutions, readRuleStateDict, writeJsonAtomic } from '@disco/runtime/node';
import { FidInception, fidInceptionInput } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '..', 'test', 'fixtures', 'fid-inception');
const batches = [1, 4, 8];

await selectBackend({ backend: 'wasm' });
const net = FidInception.fromStateDict(await readRuleStateDict(fixture, { verify: false }));

async function throughput(batch: number): Promise<number> {
  const x = tf.randomUniform([batch, 299, 299, 3], -1, 1) as tf.Tensor4D;
  const warm = net.predict(x); // warm-up (sessions, kernels)
  await warm.pool3.data();
  tf.dispose([warm.pool3, warm.logits]);
  const reps = Math.max(2, Math.ceil(16 / batch));
  const t = performance.now();
  for (let i = 0; i < reps; i++) {
    const o = net.predict(x);
    await o.pool3.data();
    tf.dispose([o.pool3, o.logits]);
  }
  x.dispose();
  return (reps * batch * 1000) / (performance.now() - t);
}

const rows: { engine: string; batch: number; imagesPerSecond: number }[] = [];
const native = enableNativeConvolutions();
for (const engine of native.enabled ? ['onnxruntime-node', 'wasm'] : ['wasm']) {
  if (engine === 'wasm') disableNativeConvolutions();
  for (const batch of engine === 'wasm' ? [1, 8] : batches) {
    const ips = await throughput(batch);
    rows.push({ engine: engine === 'wasm' ? 'wasm (XNNPACK)' : native.detail, batch, imagesPerSecond: ips });
    process.stderr.write(`FID Inception, ${engine}, batch ${batch}: ${ips.toFixed(2)} images/s\n`);
  }
}
net.dispose();

// pytorch-fid's preprocessing (bytes → 299x299 in [-1, 1]), per image.
const img = { width: 512, height: 384, data: Uint8Array.from({ length: 512 * 384 * 3 }, (_, i) => (i * 7919) % 256) };
const tp = performance.now();
for (let i = 0; i < 20; i++) fidInceptionInput(img);
const preprocessMs = (performance.now() - tp) / 20;
process.stderr.write(`preprocessing 512x384 → 299x299: ${preprocessMs.toFixed(1)} ms/image\n`);

let torch: { batch: number; imagesPerSecond: number }[] | string;
try {
  const script = [
    'import time, torch, torchvision',
    'torch.set_num_threads(2)',
    "m = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008).eval()",
    'out = []',
    'for b in (1, 4, 8):',
    '    x = torch.randn(b, 3, 299, 299)',
    '    with torch.no_grad():',
    '        m(x); reps = max(2, -(-16 // b)); t = time.time()',
    '        for _ in range(reps): m(x)',
    '    out.append((b, reps * b / (time.time() - t)))',
    'print(out)',
  ].join('\n');
  const res = execFileSync('python3', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  torch = (JSON.parse(res.trim().replace(/\(/g, '[').replace(/\)/g, ']')) as [number, number][]).map(([batch, imagesPerSecond]) => ({ batch, imagesPerSecond }));
} catch (e) {
  torch = `not measured: python3 cannot import torch/torchvision on this machine (${String((e as Error).message).split('\n').find((l) => /Error/.test(l)) ?? 'failed'})`;
}
process.stderr.write(`PyTorch torchvision InceptionV3: ${typeof torch === 'string' ? torch : torch.map((t) => `batch ${t.batch}: ${t.imagesPerSecond.toFixed(2)} images/s`).join(', ')}\n`);

const info = collectRunInfo();
console.log('\n| FID Inception (tfjs), 299x299 | batch | images/s |\n| --- | ---: | ---: |');
for (const r of rows) console.log(`| ${r.engine} | ${r.batch} | ${r.imagesPerSecond.toFixed(2)} |`);
writeJsonAtomic(path.join(here, 'fid-inception-results.json'), { machine: info.machine, date: info.startedAt, gitCommit: info.gitCommit, node: info.node, tfjs: rows, preprocessMsPerImage512x384: preprocessMs, pytorch: torch });
