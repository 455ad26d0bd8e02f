// Vite build of the in-browser DISCO demo: a static folder (dist/) that needs no server beyond
// static files. Workspace packages are compiled from their TypeScript sources (the `@disco/source`
// export condition, as in the tests); every asset (model, weights, photos, wasm) is a file.
import * as path from 'node:path';
import { defineConfig, defaultClientConditions } from 'vite';
import { nsfwInception } from './nsfw-inception.js';

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs: the built folder works from any path on any static server.
  base: './',
  resolve: {
    conditions: ['@disco/source', ...defaultClientConditions],
    // The embedded models and the grey demo photos are files of @disco/colorize, bundled as assets
    // (`disco-assets/models/<name>/weights.bin?url`); the page runs DEFAULT_MODEL, as the CLI does.
    alias: { 'disco-assets': path.resolve(import.meta.dirname, '../colorize') },
  },
  // tiny-pf's frozen InceptionV3 (nsfwjs' files) served beside the page.
  plugins: [nsfwInception()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
