// Lint for every package: typescript-eslint recommended rules plus Nx module boundaries.
// Dependency direction (by tag; see docs/architecture.md):
//   base (random)  ←  runtime, color  ←  io (images)  ←  ops (superpixel, anchors, transformer)  ←  data (photos)  ←  model (colorize)  ←  app (experiments)
// io is Node-only: op packages may use it (and Node built-ins) only in their Node entry points.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'export names explicitly (no `export *`).' }],
    },
  },
  {
    // Library sources: boundaries between packages, and which npm packages each kind may import.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:base', onlyDependOnLibsWithTags: [], allowedExternalImports: [] },
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:base'], allowedExternalImports: [...TFJS, 'node:*', 'protobufjs', 'picomatch', 'onnxruntime-node', 'onnxruntime-node/*'] },
            { sourceTag: 'type:color', onlyDependOnLibsWithTags: ['type:base'], allowedExternalImports: TFJS },
            { sourceTag: 'type:io', onlyDependOnLibsWithTags: ['type:base', 'type:runtime', 'type:color'], allowedExternalImports: [...TFJS, 'node:*', 'sharp'] },
            { sourceTag: 'type:ops', onlyDependOnLibsWithTags: ['type:base', 'type:runtime', 'type:color', 'type:io'], allowedExternalImports: [...TFJS, 'node:*', 'commander'] },
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:base', 'type:runtime', 'type:color', 'type:io'], allowedExternalImports: [...TFJS, 'node:*', 'sharp', 'commander'] },
            { sourceTag: 'type:model', onlyDependOnLibsWithTags: ['type:base', 'type:runtime', 'type:color', 'type:io', 'type:ops', 'type:data'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:base', 'type:runtime', 'type:color', 'type:io', 'type:ops', 'type:data', 'type:model'] },
          ],
        },
      ],
    },
  },
  {
    // Color science and op packages run in browsers too: no Node built-ins, no image files, no
    // CLI libraries — except in an op package's Node entry point (src/node.ts, src/node/, src/cli/).
    files: ['packages/{random,pth,color,superpixel,anchors,transformer}/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/*/src/node.ts', 'packages/*/src/node/**', 'packages/*/src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'worker_threads', 'url'], message: 'browser-safe code: no Node built-ins (Node-only code goes in src/node.ts, src/node/ or src/cli/).' },
            { group: ['sharp', 'commander', '@disco/images', '@disco/images/*', '@disco/photos', '@disco/runtime/node'], message: 'browser-safe code: image files, data sets and CLI helpers only in src/node.ts, src/node/ or src/cli/.' },
          ],
        },
      ],
    },
  },
);
