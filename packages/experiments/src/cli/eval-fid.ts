/**
 * `nx run experiments:eval-fid -- --real <dir|list> --fake <dir|list> [options]`
 *
 * Scores a set of images against a reference set: FID and KID at two feature layers, IS when the
 * network has a 1000-class head, colorfulness of both sets. Prints a table and writes JSON.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { collectRunInfo, setupBackendForCli, writeJsonAtomic } from '@disco/runtime/node';
import { KID_DEFAULTS } from '../metrics/kid.js';
import { checkSetSizes, extractImageSetFeatures, formatScoreTable, scoreFeatureSets, smallSampleWarnings } from '../node/eval_fid.js';
import { listImages } from '../node/images.js';
import { loadInceptionFromFile, loadNsfwInception, type FeatureNetwork } from '../node/inception.js';

function int(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

// Nx runs the command in packages/experiments; resolve user paths against where it was invoked.
const base = process.env['INIT_CWD'] ?? process.cwd();
const resolve = (p: string): string => path.resolve(base, p);

const program = new Command()
  .name('eval-fid')
  .description('FID / KID / IS / colorfulness of --fake images against --real images')
  .requiredOption('--real <dir|list>', 'reference images: a folder (recursive) or a text file with one path per line')
  .requiredOption('--fake <dir|list>', 'images to score, same forms as --real')
  .option('--out <file>', 'JSON report path', 'eval-fid.json')
  .option('--features-out <file>', 'also save the features (and class probabilities) as JSON')
  .option('--inception <model.json>', 'a standard InceptionV3 in tfjs layers format (default: nsfwjs InceptionV3, project-relative scores)')
  .option('--inception-range <range>', "input scaling of --inception: '[-1,1]' (Keras) or '[0,1]'", '[-1,1]')
  .option('--pool-layer <name>', 'pooled 2048-d feature layer of --inception (default: avg_pool / flatten_1)')
  .option('--batch-size <n>', 'images per inference batch', int('--batch-size', 1), 8)
  .option('--kid-subsets <n>', 'KID subset count', int('--kid-subsets', 1), KID_DEFAULTS.subsets)
  .option('--kid-subset-size <n>', 'KID subset size (clamped to the set sizes)', int('--kid-subset-size', 2), KID_DEFAULTS.subsetSize)
  .option('--seed <n>', 'seed of the KID subsets', int('--seed', 0), 0)
  .option('--limit <n>', 'use only the first n images of each set', int('--limit', 1))
  .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm, cpu (default: $DISCO_BACKEND or auto)')
  .parse();

interface Opts {
  real: string;
  fake: string;
  out: string;
  featuresOut?: string;
  inception?: string;
  inceptionRange: string;
  poolLayer?: string;
  batchSize: number;
  kidSubsets: number;
  kidSubsetSize: number;
  seed: number;
  limit?: number;
  backend?: string;
}

async function main(): Promise<void> {
  const o = program.opts<Opts>();
  const run = collectRunInfo();
  const t0 = performance.now();
  const backend = await setupBackendForCli(o.backend);
  const limit = (files: string[]): string[] => (o.limit !== undefined ? files.slice(0, o.limit) : files);
  const realFiles = limit(listImages(resolve(o.real)));
  const fakeFiles = limit(listImages(resolve(o.fake)));
  // Before loading the network or decoding anything.
  checkSetSizes({ real: realFiles.length, fake: fakeFiles.length }, { real: '--real', fake: '--fake' });
  let network: FeatureNetwork;
  const tl = performance.now();
  if (o.inception !== undefined) {
    if (o.inceptionRange !== '[-1,1]' && o.inceptionRange !== '[0,1]') throw new Error(`--inception-range must be one of [-1,1], [0,1], got '${o.inceptionRange}'`);
    network = await loadInceptionFromFile(resolve(o.inception), { inputRange: o.inceptionRange, ...(o.poolLayer ? { poolLayer: o.poolLayer } : {}) });
  } else {
    network = await loadNsfwInception();
  }
  const loadSeconds = (performance.now() - tl) / 1000;
  process.stderr.write(`network ${network.name} (${network.layers.map((l) => `${l.key}:${l.dims}`).join(', ')}) loaded in ${loadSeconds.toFixed(1)} s\n`);
  process.stderr.write(`caveat: ${network.caveat}\n`);
  const real = await extractImageSetFeatures(realFiles, network, { batchSize: o.batchSize, label: 'real' });
  const fake = await extractImageSetFeatures(fakeFiles, network, { batchSize: o.batchSize, label: 'fake' });
  const skipped = [...real.skipped, ...fake.skipped];
  if (skipped.length > 0) process.stderr.write(`skipped ${skipped.length} undecodable image(s) (${real.skipped.length} real, ${fake.skipped.length} fake); scores use ${real.files.length} real / ${fake.files.length} fake\n`);
  checkSetSizes({ real: real.files.length, fake: fake.files.length }, { real: '--real (after skipping undecodable images)', fake: '--fake (after skipping undecodable images)' });
  const throughput = (real.files.length + fake.files.length) / (real.seconds + fake.seconds);
  process.stderr.write(`feature extraction: ${throughput.toFixed(2)} images/s (batch ${o.batchSize}, backend ${backend.name})\n`);
  const ts = performance.now();
  const scores = scoreFeatureSets(real, fake, network, { kid: { subsets: o.kidSubsets, subsetSize: o.kidSubsetSize, seed: o.seed } });
  const scoreSeconds = (performance.now() - ts) / 1000;
  network.dispose();
  const counts = { real: real.files.length, fake: fake.files.length };
  const table = formatScoreTable(scores, counts);
  process.stdout.write(`${table}\n`);
  const warnings = smallSampleWarnings(scores, counts);
  for (const w of warnings) process.stderr.write(`eval-fid: warning: ${w}\n`);
  const report = {
    command: 'eval-fid',
    real: { source: resolve(o.real), count: real.files.length, skipped: real.skipped },
    fake: { source: resolve(o.fake), count: fake.files.length, skipped: fake.skipped },
    warnings,
    network: { name: network.name, caveat: network.caveat, layers: network.layers, inputSize: network.inputSize, resize: 'bilinear, half-pixel centres, no antialiasing (tfjs resizeBilinear)', classes: network.classes },
    scores: {
      fid: Object.fromEntries(scores.layers.map((l) => [l.fidLabel, l.fid])),
      kid: Object.fromEntries(scores.layers.map((l) => [l.kidLabel, l.kid])),
      inceptionScore: scores.inceptionScore,
      colorfulness: { real: { mean: scores.colorfulness.real.mean, std: scores.colorfulness.real.std }, fake: { mean: scores.colorfulness.fake.mean, std: scores.colorfulness.fake.std } },
    },
    seed: o.seed,
    batchSize: o.batchSize,
    backend: backend.name,
    seconds: { total: (performance.now() - t0) / 1000, load: loadSeconds, real: real.seconds, fake: fake.seconds, scoring: scoreSeconds },
    imagesPerSecond: throughput,
    run,
  };
  writeJsonAtomic(resolve(o.out), report);
  process.stderr.write(`wrote ${resolve(o.out)}\n`);
  if (o.featuresOut !== undefined) {
    const dump = (s: typeof real): object => ({
      files: s.files,
      colorfulness: s.colorfulness,
      ...Object.fromEntries(network.layers.map((l, k) => [l.key, rows(s.features[k]!.data, l.dims)])),
      probs: s.probs === null ? null : rows(s.probs.data, s.probs.cols),
    });
    writeJsonAtomic(resolve(o.featuresOut), { network: network.name, layers: network.layers, real: dump(real), fake: dump(fake) });
    process.stderr.write(`wrote ${resolve(o.featuresOut)}\n`);
  }
}

function rows(data: ArrayLike<number>, d: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length / d; i++) out.push(Array.from({ length: d }, (_, j) => data[i * d + j]!));
  return out;
}

main().catch((e: unknown) => {
  process.stderr.write(`eval-fid: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
