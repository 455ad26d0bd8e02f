// Serves the frozen InceptionV3 of `tiny-pf` (nsfwjs' files, as a tfjs layers model: model.json +
// six .bin shards) under `nsfw-inception/` next to the page: from memory in `vite` (dev and
// preview), as emitted files in `vite build`. The page registers that URL as the frozen network
// `nsfw-inception` and loads it with tfjs' http loader; nothing beyond the local server is fetched.
import type { Plugin } from 'vite';
import { nsfwInceptionFiles } from '../colorize/src/io/nsfw_files.js';

/** The folder, relative to the page, the model files are served from. */
export const NSFW_INCEPTION_DIR = 'nsfw-inception';

/** The Vite plugin: `plugins: [nsfwInception()]`. */
export function nsfwInception(): Plugin {
  let files: Map<string, Uint8Array> | null = null;
  const all = (): Map<string, Uint8Array> => {
    if (!files) {
      const { modelJson, shards } = nsfwInceptionFiles();
      files = new Map([['model.json', new TextEncoder().encode(JSON.stringify(modelJson))], ...shards.map((s) => [s.name, s.bytes] as [string, Uint8Array])]);
    }
    return files;
  };
  const serve = (server: { middlewares: { use: (fn: (req: { url?: string }, res: { setHeader: (k: string, v: string) => void; end: (b: Uint8Array) => void }, next: () => void) => void) => void } }) => {
    server.middlewares.use((req, res, next) => {
      const m = /\/nsfw-inception\/([\w.-]+)$/.exec((req.url ?? '').split('?')[0]!);
      const body = m ? all().get(m[1]!) : undefined;
      if (!body) return next();
      res.setHeader('Content-Type', m![1]!.endsWith('.json') ? 'application/json' : 'application/octet-stream');
      res.end(body);
    });
  };
  return {
    name: 'disco-nsfw-inception',
    configureServer: serve,
    configurePreviewServer: serve,
    generateBundle() {
      for (const [name, source] of all()) this.emitFile({ type: 'asset', fileName: `${NSFW_INCEPTION_DIR}/${name}`, source });
    },
  };
}
