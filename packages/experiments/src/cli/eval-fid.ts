/**
 * `nx run experiments:eval-fid -- --real <dir|list> --fake <dir|list> [options]`
 *
 * Scores a set of images against a reference set: FID and KID at two feature layers, IS when the
 * network has a 1000-class head, colorfulness of both sets. Prints a table and writes JSON.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { collectRunInfo, expandInputs, intArg, MAX_SEED, parseShard, selectShard, setupBackendForCli, sha256File, sha256Hex, writeJsonAtomic } from '@disco/runtime/node';
import { KID_DEFAULTS } from '../metrics/kid.js';
import { checkSetSizes, extractImageSetFeatures, formatScoreTable, scoreFeatureSets, smallSampleWarnings } from '../node/eval_fid.js';
import { FeatureJournal, labelOnlyNetwork, mergeFeatureFiles, networkInfo, writeFeatureFile, type IndexedSetFeatures } from '../node/feature_files.js';
import { listImageInputs } from '@disco/images';
import { loadFidInception, loadInceptionFromFile, loadNsfwInception, PT_INCEPTION_FILE, type FeatureNetwork } from '../node/inception.js';
import { resolveFromCaller as resolve } from './args.js';

/** sha256 of a layers-format model: its `model.json` and every weight file its manifest names. */
function networkFilesSha256(modelJson: string): string {
  const sums = [sha256File(modelJson)];
  try {
    const j = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
    for (const g of j.weightsManifest ?? []) for (const p of g.paths ?? []) sums.push(sha256File(path.join(path.dirname(modelJson), p)));
  } catch {
    // the loader reports an unreadable model
  }
  return sha256Hex(sums.join(' '));
}

const program = new Command()
  .name('eval-fid')
  .description('FID / KID / IS / colorfulness of --fake images against --real images')
  .option('--real <dir|glob|list>', 'reference images: a folder (recursive), a glob, or a text file with one path per line')
  .option('--fake <dir|glob|list>', 'images to score, same forms as --real')
  .option('--out <file>', 'JSON report path', 'eval-fid.json')
  .option('--features-out <file>', 'also save the features (and class probabilities) as JSON; <file minus .json>.jsonl holds them as they are extracted, and a restarted run resumes from it')
  .option('--features-in <files...>', "score the features files of a sharded run (e.g. 'shard*/features.json') instead of images")
  .option('--shard <i/n|auto>', 'extract only shard i of n of each set (by a hash of the relative path; needs --features-out); auto: from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID')
  .option('--overwrite', 'extract every image again instead of resuming from the incremental features file')
  .option(
    '--inception <file>',
    `the FID Inception weights: pytorch-fid's ${PT_INCEPTION_FILE} (FID on pool3, IS on its 1008 classes: comparable with published values), or a tfjs layers model.json of another InceptionV3 (default: the nsfwjs InceptionV3, project-relative scores)`,
  )
  .option('--inception-range <range>', "input scaling of --inception: '[-1,1]' (Keras) or '[0,1]'", '[-1,1]')
  .option('--pool-layer <name>', 'pooled 2048-d feature layer of --inception (default: avg_pool / flatten_1)')
  .option('--batch-size <n>', 'images per inference batch', intArg('--batch-size', 1), 8)
  .option('--kid-subsets <n>', 'KID subset count', intArg('--kid-subsets', 1), KID_DEFAULTS.subsets)
  .option('--kid-subset-size <n>', 'KID subset size (clamped to the set sizes)', intArg('--kid-subset-size', 2), KID_DEFAULTS.subsetSize)
  .option('--seed <n>', 'seed of the KID subsets', intArg('--seed', 0, MAX_SEED), 0)
  .option('--limit <n>', 'use only the first n images of each set', intArg('--limit', 1))
  .option('--backend <name>', 'tfjs backend: auto, tensorflow, wasm, cpu (default: $DISCO_BACKEND or auto)')
  .parse();

interface Opts {
  real?: string;
  fake?: string;
  out: string;
  featuresOut?: string;
  featuresIn?: string[];
  shard?: string;
  overwrite?: boolean;
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
  const shard = parseShard(o.shard);
  if (o.featuresIn !== undefined && (o.real !== undefined || o.fake !== undefined || shard !== null)) throw new Error('--features-in scores saved features; it takes no --real, --fake or --shard');
  if (o.featuresIn === undefined && (o.real === undefined || o.fake === undefined)) throw new Error('--real and --fake are required (or --features-in with feature files)');
  if (shard !== null && o.featuresOut === undefined) throw new Error('--shard needs --features-out: each shard writes its features, and --features-in merges them and scores');
  const backend = await setupBackendForCli(o.backend);
  let network: FeatureNetwork;
  let real: IndexedSetFeatures;
  let fake: IndexedSetFeatures;
  let loadSeconds = 0;
  if (o.featuresIn !== undefined) {
    const files = expandInputs(o.featuresIn.map(resolve), { extensions: ['.json'] }).map((f) => f.file);
    for (const f of files) if (!fs.existsSync(f)) throw new Error(`--features-in: '${f}' does not exist`);
    const merged = mergeFeatureFiles(files);
    process.stderr.write(`merged ${files.length} feature file(s): ${merged.real.files.length} real / ${merged.fake.files.length} fake images, network ${merged.info.name}\n`);
    network = labelOnlyNetwork(merged.info);
    real = merged.real;
    fake = merged.fake;
  } else {
    const limit = <T>(files: T[]): T[] => (o.limit !== undefined ? files.slice(0, o.limit) : files);
    const realAll = limit(listImageInputs(resolve(o.real!))).map((f, index) => ({ ...f, index }));
    const fakeAll = limit(listImageInputs(resolve(o.fake!))).map((f, index) => ({ ...f, index }));
    // Before loading the network or decoding anything (a shard's sets are checked once merged).
    if (shard === null) checkSetSizes({ real: realAll.length, fake: fakeAll.length }, { real: '--real', fake: '--fake' });
    const mine = { real: selectShard(realAll, shard), fake: selectShard(fakeAll, shard) };
    if (shard !== null) process.stderr.write(`shard ${shard.index}/${shard.count}: ${mine.real.length} of ${realAll.length} real, ${mine.fake.length} of ${fakeAll.length} fake images\n`);
    const tl = performance.now();
    if (o.inception !== undefined) {
      if (o.inceptionRange !== '[-1,1]' && o.inceptionRange !== '[0,1]') throw new Error(`--inception-range must be one of [-1,1], [0,1], got '${o.inceptionRange}'`);
      network = /\.json$/i.test(o.inception)
        ? await loadInceptionFromFile(resolve(o.inception), { inputRange: o.inceptionRange, ...(o.poolLayer ? { poolLayer: o.poolLayer } : {}) })
        : await loadFidInception(resolve(o.inception));
    } else {
      network = await loadNsfwInception();
    }
    loadSeconds = (performance.now() - tl) / 1000;
    process.stderr.write(`network ${network.name} (${network.layers.map((l) => `${l.key}:${l.dims}`).join(', ')}) loaded in ${loadSeconds.toFixed(1)} s\n`);
    process.stderr.write(`caveat: ${network.caveat}\n`);
    process.stderr.write(`scores: ${network.comparableWithPublished === true ? 'comparable with published values' : 'project-relative (not comparable with published values)'}\n`);
    const info = networkInfo(network);
    // Cached features are keyed on the network, its preprocessing and each image's bytes.
    // (A weights file's sha256 is in `info`; a layers-format model.json is hashed with its weight files here.)
    const identity = o.inception !== undefined && /\.json$/i.test(o.inception) ? { inceptionSha256: networkFilesSha256(resolve(o.inception)), inceptionRange: o.inceptionRange, poolLayer: o.poolLayer ?? null } : {};
    const journal = new FeatureJournal(resolve(o.featuresOut ?? o.out).replace(/\.json$/i, '') + '.jsonl', info, o.overwrite === true, identity);
    const extract = async (set: 'real' | 'fake'): Promise<number> => {
      const sums = new Map(mine[set].map((f) => [f.file, sha256File(f.file)]));
      const states = mine[set].map((f) => journal.state(set, f.file, sums.get(f.file)!));
      const todo = mine[set].filter((_, i) => states[i] !== 'done');
      const done = mine[set].length - todo.length;
      const changed = states.filter((st) => st === 'changed').length;
      if (done > 0) process.stderr.write(`${set}: ${done} of ${mine[set].length} images already extracted in ${journal.file} from the same bytes (kept; --overwrite redoes them)\n`);
      if (changed > 0) process.stderr.write(`${set}: ${changed} image${changed === 1 ? '' : 's'} changed since extracted in ${journal.file}; extracting again\n`);
      if (todo.length === 0) return 0;
      const r = await extractImageSetFeatures(todo.map((f) => f.file), network, { batchSize: o.batchSize, label: set, onImage: (file, features, probs, cf) => journal.add(set, file, features, probs, cf, sums.get(file) ?? null) });
      for (const s of r.skipped) journal.addSkipped(set, s.file, s.error, sums.get(s.file) ?? null);
      return r.seconds;
    };
    const realSeconds = await extract('real');
    const fakeSeconds = await extract('fake');
    real = journal.collect('real', mine.real, realAll.length, info, realSeconds);
    fake = journal.collect('fake', mine.fake, fakeAll.length, info, fakeSeconds);
    if (o.featuresOut !== undefined) {
      writeFeatureFile(resolve(o.featuresOut), info, { real, fake }, shard === null ? null : `${shard.index}/${shard.count}`);
      process.stderr.write(`wrote ${resolve(o.featuresOut)}\n`);
    }
    if (shard !== null) {
      network.dispose();
      process.stdout.write(`shard ${shard.index}/${shard.count}: features of ${real.files.length} real / ${fake.files.length} fake images in ${resolve(o.featuresOut!)}; score all shards with --features-in\n`);
      return;
    }
  }
  const skipped = [...real.skipped, ...fake.skipped];
  if (skipped.length > 0) process.stderr.write(`skipped ${skipped.length} undecodable image(s) (${real.skipped.length} real, ${fake.skipped.length} fake); scores use ${real.files.length} real / ${fake.files.length} fake\n`);
  checkSetSizes({ real: real.files.length, fake: fake.files.length }, { real: '--real (after skipping undecodable images)', fake: '--fake (after skipping undecodable images)' });
  const seconds = real.seconds + fake.seconds;
  const throughput = seconds > 0 ? (real.files.length + fake.files.length) / seconds : null;
  if (throughput !== null) process.stderr.write(`feature extraction: ${throughput.toFixed(2)} images/s (batch ${o.batchSize}, backend ${backend.name})\n`);
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
    real: { source: o.real !== undefined ? resolve(o.real) : null, count: real.files.length, skipped: real.skipped },
    fake: { source: o.fake !== undefined ? resolve(o.fake) : null, count: fake.files.length, skipped: fake.skipped },
    ...(o.featuresIn !== undefined ? { featuresIn: o.featuresIn.map(resolve) } : {}),
    warnings,
    network: {
      name: network.name,
      caveat: network.caveat,
      comparability: network.comparableWithPublished === true ? 'comparable with published values' : 'project-relative',
      ...(network.weightsSha256 !== undefined ? { weightsSha256: network.weightsSha256 } : {}),
      layers: network.layers,
      inputSize: network.inputSize,
      resize: network.preprocessing ?? 'bilinear, half-pixel centres, no antialiasing (tfjs resizeBilinear)',
      classes: network.classes,
    },
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
}

main().catch((e: unknown) => {
  process.stderr.write(`eval-fid: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
