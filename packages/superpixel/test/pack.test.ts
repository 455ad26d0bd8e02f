// The package as a user gets it: `npm pack` (its prepack script builds dist/), the tarball
// installed into a scratch project in a temporary folder together with tfjs from the npm cache,
// pool/diffuse run from a plain `node` ESM script, and a TypeScript consumer type-checked against
// the installed `.d.ts`. Needs the npm registry or a populated npm cache (tfjs 4.22); ~30 s.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installScratch, packPackages, packTempDir, runScratch } from '@disco/runtime/node';
import { diffuse, pool } from '../src/index.js';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { name: string; version: string };
const tfjsVersion = (JSON.parse(fs.readFileSync(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string }).version;
const tscBin = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The inputs, in this process and (as JSON, exact) in the scratch script: features `[1, 4, 4, 2]`, logits `[1, 4, 4, 9]`. */
const features = Array.from({ length: 32 }, (_, i) => Math.sin(0.7 * i + 0.3));
const logits = Array.from({ length: 144 }, (_, i) => Math.cos(1.3 * i) * 2);

const SCRIPT = `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pool, diffuse } from '${pkg.name}';
await tf.setBackend('cpu');
const features = ${JSON.stringify(features)};
const logits = ${JSON.stringify(logits)};
const x = tf.tensor4d(features, [1, 4, 4, 2]);
const a = tf.softmax(tf.tensor4d(logits, [1, 4, 4, 9]));
const { pooled, mass } = pool(x, a, 2);
const back = diffuse(pooled, a, 2);
process.stdout.write(JSON.stringify({ shapes: [pooled.shape, mass.shape, back.shape], pooled: Array.from(await pooled.data()), mass: Array.from(await mass.data()), back: Array.from(await back.data()) }));
`;

const CONSUMER = `import * as tf from '@tensorflow/tfjs-core';
import { diffuse, pool, type PoolResult } from '${pkg.name}';

export function roundTrip(x: tf.Tensor4D, a: tf.Tensor4D): tf.Tensor4D {
  const r: PoolResult = pool(x, a, 2);
  const pooled: tf.Tensor4D = r.pooled;
  return diffuse(pooled, a, 2);
}
// @ts-expect-error pool needs an association and a cell size (fails if the types were missing or any)
export const wrong = pool(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D);
`;

function run(cmd: string, args: string[], cwd: string): string {
  return runScratch(cmd, args, cwd);
}

describe(`${pkg.name} packed and installed into a scratch project`, () => {
  let tmp = '';
  let scratch = '';
  let tarball = '';
  let packedFiles: string[] = [];

  beforeAll(async () => {
    tmp = packTempDir();
    const [packed] = await packPackages([pkgDir], tmp);
    tarball = packed!.tarball;
    packedFiles = packed!.files;
    scratch = await installScratch(tmp, [tarball, `@tensorflow/tfjs-core@${tfjsVersion}`, `@tensorflow/tfjs-backend-cpu@${tfjsVersion}`, `@tensorflow/tfjs-layers@${tfjsVersion}`]);
  }, 90_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds the built JS and .d.ts, and the package depends on no other @disco package', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/pool.js', 'dist/pool.d.ts', 'dist/diffuse.js', 'package.json', 'README.md']) expect(packedFiles).toContain(f);
    expect(packedFiles.some((f) => f.endsWith('.test.ts'))).toBe(false);
    const installed = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', ...pkg.name.split('/'), 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(installed.dependencies ?? {}).filter((d) => d.startsWith('@disco/'))).toEqual([]);
    expect(fs.existsSync(path.join(scratch, 'node_modules', '@disco', 'runtime'))).toBe(false);
  });

  it('pool/diffuse run from a plain node ESM script with the results of the source [1x4x4x2, S=2]', async () => {
    fs.writeFileSync(path.join(scratch, 'check.mjs'), SCRIPT);
    const out = JSON.parse(run(process.execPath, ['check.mjs'], scratch)) as { shapes: number[][]; pooled: number[]; mass: number[]; back: number[] };
    expect(out.shapes).toEqual([
      [1, 2, 2, 2],
      [1, 2, 2, 1],
      [1, 4, 4, 2],
    ]);

    await tf.setBackend('cpu');
    // The same computation from src/ in this process.
    const x = tf.tensor4d(features, [1, 4, 4, 2]);
    const a = tf.softmax(tf.tensor4d(logits, [1, 4, 4, 9])) as tf.Tensor4D;
    const { pooled, mass } = pool(x, a, 2);
    const back = diffuse(pooled, a, 2);
    expect(out.pooled).toEqual(Array.from(await pooled.data()));
    expect(out.mass).toEqual(Array.from(await mass.data()));
    expect(out.back).toEqual(Array.from(await back.data()));
    tf.dispose([x, a, pooled, mass, back]);
  });

  it('a TypeScript consumer type-checks against the installed .d.ts', () => {
    fs.writeFileSync(path.join(scratch, 'consumer.ts'), CONSUMER);
    // skipLibCheck: tfjs-layers' own .d.ts fail strict checks; the consumer's @ts-expect-error line
    // still fails the check if the installed types were missing or \`any\`.
    fs.writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [], lib: ['ES2022', 'DOM'], skipLibCheck: true }, files: ['consumer.ts'] }),
    );
    let output = '';
    try {
      output = run(process.execPath, [tscBin, '-p', 'tsconfig.json'], scratch);
    } catch (e) {
      output = String((e as { stdout?: string }).stdout ?? e);
      throw new Error(`tsc failed on the consumer:\n${output}`);
    }
    expect(output).toBe('');
  });
});
