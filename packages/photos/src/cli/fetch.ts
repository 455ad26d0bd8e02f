/**
 * `npx nx run photos:fetch`: fetches DISCO's real-photograph sets from Debian's archive into
 * `<workspace>/.cache/disco-photos` (see `src/photos.ts`) and prints where the lists are.
 *
 *   node --conditions=@disco/source --import tsx src/cli/fetch.ts [--cache <dir>] [--force]
 *        [--accept-changes] [--write-manifest]
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { writeJsonAtomic } from '@disco/runtime/node';
import { fetchPhotos } from '../photos.js';
import { PHOTOS_MANIFEST, defaultPhotoCache } from '../sets.js';

async function main(): Promise<void> {
  const program = new Command('fetch')
    .description('Fetch the training (gcompris, lomiri, mate) and held-out (scratch, kphotoalbum, gnome faces, palapeli, skimage, sklearn) photographs from Debian.')
    .option('--cache <dir>', 'cache folder', defaultPhotoCache())
    .option('--force', 'rebuild the lists even if the cache is complete', false)
    .option('--accept-changes', 'use files whose hashes differ from data/photos-manifest.json (still reported)', false)
    .option('--write-manifest', 'write the result to packages/photos/data/photos-manifest.json', false)
    .parse();
  const o = program.opts<{ cache: string; force: boolean; acceptChanges: boolean; writeManifest: boolean }>();
  const t0 = performance.now();
  const { manifest, cached, changes } = await fetchPhotos({
    cacheDir: path.resolve(o.cache),
    referenceManifest: o.writeManifest ? undefined : PHOTOS_MANIFEST,
    force: o.force,
    acceptChanges: o.acceptChanges,
  });
  for (const c of changes) process.stderr.write(`${c}\n`);
  if (o.writeManifest) writeJsonAtomic(PHOTOS_MANIFEST, manifest);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `${cached ? 'cached' : 'fetched'} in ${s}s: ${manifest.counts.train} training photos (${path.join(o.cache, 'train.txt')}), ` +
      `${manifest.counts.heldout} held-out photos (${path.join(o.cache, 'heldout.txt')})${changes.length ? `, ${changes.length} change(s) vs data/photos-manifest.json` : ''}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message.split('\n')[0]}\n`);
  process.exit(1);
});
