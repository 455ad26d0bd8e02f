/**
 * `nx run experiments:score -- --model <dir> --heldout <dir|list> [--train <dir|list>] [--out <dir>]`
 *
 * Scores a DISCO model on held-out photos against two trivial baselines (grey, and with `--train`
 * the training set's mean color): ab error, AuC and class-rebalanced AuC, colorfulness, green/red
 * shares, blockiness at the model's token grid, with predicted and oracle anchors;
 * plus the stage-by-stage anchor-path diagnosis. Writes `scores.json` and `scores.md`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { isBaselineModel } from '@disco/colorize';
import { loadDiscoModel, resolveModelArg } from '@disco/colorize/node';
import { listImages, writeImage } from '@disco/images';
import { collectRunInfo, intArg, numberListArg, Progress, setupBackendForCli, writeFileAtomic, writeJsonAtomic } from '@disco/runtime/node';
import { constantMethod, diagnoseAnchors, greyMethod, meanTrainingAb, modelMethods, scoreHeldout, type AnchorDiagnosis, type HeldoutScores } from '../node/heldout.js';
import { resolveFromCaller as resolve } from './args.js';

/** Markdown tables of a score run. */
export function formatScores(s: HeldoutScores, d: AnchorDiagnosis | null): string {
  const f = (x: number, k = 2) => x.toFixed(k);
  const lines = [
    `| method | mean ab error ↓ | AuC ↑ | rebalanced AuC ↑ | colorfulness | green share (a < −10) | red share (a > 15) | blockiness |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|`,
    `| ground truth | 0 | 1 | 1 | ${f(s.truth.colorfulness, 1)} | ${f(100 * s.truth.green, 1)} % | ${f(100 * s.truth.red, 1)} % | ${s.truth.blockiness === undefined ? '—' : f(s.truth.blockiness)} |`,
    ...Object.entries(s.methods).map(([n, m]) => `| ${n} | ${f(m.meanError)} | ${f(m.auc, 4)} | ${m.aucRebalanced === undefined ? '—' : f(m.aucRebalanced, 4)} | ${f(m.colorfulness, 1)} | ${f(100 * m.green, 1)} % | ${f(100 * m.red, 1)} % | ${m.blockiness === undefined ? '—' : f(m.blockiness)} |`),
  ];
  if (d) {
    lines.push(
      '',
      `Anchor path with oracle anchors at the model size (${d.images} images; errors in Lab units):`,
      '',
      '| stage | value |',
      '|---|---:|',
      `| hint bin = true bin at anchors | ${f(100 * d.hintEqualsTruth, 1)} % |`,
      `| generator's most probable bin = hint bin at anchors | ${f(100 * d.generatorKeepsHint, 1)} % |`,
      `| generator decoded color vs truth, anchor tokens | ${f(d.generatorErrorAtAnchors)} |`,
      `| generator decoded color vs truth, all tokens | ${f(d.generatorErrorAllTokens)} |`,
      `| same, hints withheld | ${f(d.generatorErrorNoHints)} |`,
      `| modeler decoded color vs truth, all tokens | ${f(d.modelerErrorAllTokens)} |`,
      `| decoded generator colors diffused to pixels vs truth | ${f(d.diffusedError)} |`,
      `| model output vs truth | ${f(d.outputError)} |`,
      `| model output, hints withheld | ${f(d.outputErrorNoHints)} |`,
      `| user-anchor path vs oracle path, max abs ab difference | ${d.userPathMaxDiff.toExponential(2)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const program = new Command()
  .name('score')
  .description('ab error / AuC / colorfulness / color shares of a DISCO model on held-out photos, with grey and mean-color baselines and oracle anchors')
  .option('--model <dir>', 'model folder or embedded model name, DISCO or a baseline (default: DEFAULT_MODEL, the embedded tiny-pf)')
  .requiredOption('--heldout <dir|list>', 'held-out photos (folder or list file)')
  .option('--train <dir|list>', 'training photos: adds the mean-color baseline row (optional)')
  .option('--out <dir>', 'output folder for scores.json and scores.md', 'scores')
  .option('--max-side <n>', 'score at most this long side (0: full resolution)', intArg('--max-side', 0), 0)
  .option('--limit <n>', 'score only the first n held-out photos (0: all)', intArg('--limit', 0), 0)
  .option('--images', 'also write the output PNGs per method under <out>/images/<method>/')
  .option('--no-diagnose', 'skip the anchor-path diagnosis')
  .option('--anchor-temperatures <list>', "also score expected anchor colors at these annealed-mean temperatures, e.g. 0.2,0.1", numberListArg('--anchor-temperatures', (t) => t > 0, 'numbers > 0'))
  .option('--anchor-rebalances <list>', "also score predicted anchors (most probable bin) after post-hoc rebalancing with these α ≥ −1, e.g. -1,0.5,1", numberListArg('--anchor-rebalances', (a) => a >= -1, 'numbers ≥ −1'))
  .option('--chroma-upsampling <how>', "how the predicted ab meets the photo's L (colorizeL's chromaUpsampling): guided (edge-aware guided filter, the default) or bilinear (the raw network output)", 'guided')
  .option('--backend <name>', 'auto, tensorflow, wasm or cpu')
  .action(async (flags: { model?: string; heldout: string; train?: string; out: string; maxSide: number; limit: number; images?: boolean; diagnose: boolean; backend?: string; anchorTemperatures?: number[]; anchorRebalances?: number[]; chromaUpsampling: string }) => {
    if (flags.chromaUpsampling !== 'guided' && flags.chromaUpsampling !== 'bilinear') throw new Error(`--chroma-upsampling must be guided or bilinear; got '${flags.chromaUpsampling}'`);
    const backend = await setupBackendForCli(flags.backend);
    const modelDir = resolveModelArg(flags.model, resolve);
    const model = await loadDiscoModel(modelDir);
    let files = listImages(resolve(flags.heldout));
    if (flags.limit > 0) files = files.slice(0, flags.limit);
    const out = resolve(flags.out);
    fs.mkdirSync(out, { recursive: true });
    const meanAb = flags.train ? await meanTrainingAb(listImages(resolve(flags.train))) : null;
    const methods = [greyMethod(), ...(meanAb ? [constantMethod(meanAb)] : []), ...modelMethods(model, { anchorTemperatures: flags.anchorTemperatures, anchorRebalances: flags.anchorRebalances, chromaUpsampling: flags.chromaUpsampling })];
    const progress = new Progress({ total: files.length, label: 'score', write: (l) => process.stderr.write(`${l}\n`), intervalMs: 2000 });
    const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const scores = await scoreHeldout(files, methods, {
      maxSide: flags.maxSide,
      grid: [model.config.imageSize / model.config.cellSize, model.config.imageSize / model.config.cellSize], // the token grid of --mode resize (a baseline is measured on the same grid)
      onImage: (i) => progress.update(i),
      onOutput: flags.images
        ? async (file, method, rgb) => {
            const dir = path.join(out, 'images', slug(method));
            fs.mkdirSync(dir, { recursive: true });
            await writeImage(path.join(dir, `${path.basename(file).replace(/\.[^.]+$/, '')}.png`), rgb);
          }
        : undefined,
    });
    const diagnosis = flags.diagnose && !isBaselineModel(model) ? await diagnoseAnchors(model, files) : null; // a baseline has no anchor path
    model.dispose();
    const report = { command: 'experiments:score', run: collectRunInfo(), backend: backend.name, model: modelDir, chromaUpsampling: flags.chromaUpsampling, heldout: flags.heldout, images: files.length, maxSide: flags.maxSide, meanTrainingAb: meanAb, scores, diagnosis };
    writeJsonAtomic(path.join(out, 'scores.json'), report);
    const md = formatScores(scores, diagnosis);
    writeFileAtomic(path.join(out, 'scores.md'), md);
    process.stdout.write(md);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`score: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
});
