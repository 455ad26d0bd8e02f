// Every README code block that imports a `@disco/*` package, as a user meets it: the workspace's
// packages built once (`nx run colorize:build`, which builds the packages it depends on), packed
// without a second build, installed from the tarballs into a scratch project, then each block
// type-checked (as `.ts`, strict, no casts needed) and run with plain `node` (as `.mjs`), in that
// project's folder, which holds the files the blocks read (`grey.jpg`, `photo.jpg`, `photos/`). A
// block preceded by `<!-- readme-test: not run (reason) -->` is skipped and must give its reason.
// Needs the npm cache (or registry) for tfjs, sharp and the other dependencies; about a minute.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installScratch, packPackages, packTempDir, runScratchAsync, scratchEnv } from '@disco/runtime/node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);
const tfjsVersion = (JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs-core/package.json'), 'utf8')) as { version: string }).version;
const tscBin = require.resolve('typescript/bin/tsc');

/** The packages a README block may import: `@disco/colorize` and everything below it. */
const PACKAGES = ['random', 'runtime', 'color', 'images', 'photos', 'superpixel', 'anchors', 'transformer', 'pth', 'colorize'];

interface Block {
  /** `README.md` or `packages/<name>/README.md`, and the block's number in that file. */
  where: string;
  code: string;
  skip: string | null;
}

/** The fenced `ts`/`js` blocks importing `@disco/…` in the root README and every package README. */
function readmeBlocks(): Block[] {
  const files = ['README.md', ...fs.readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}/README.md`)].filter((f) => fs.existsSync(path.join(root, f)));
  const out: Block[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    let n = 0;
    for (const m of text.matchAll(/(?:<!-- readme-test: ([^\n]*?) -->\n)?```(ts|js|typescript|javascript)\n([\s\S]*?)```/g)) {
      n++;
      if (!/from '@disco\//.test(m[3]!)) continue;
      out.push({ where: `${file} #${n}`, code: m[3]!, skip: m[1] ?? null });
    }
  }
  return out;
}

const blocks = readmeBlocks();
const runnable = blocks.filter((b) => b.skip == null);

describe('README code blocks, run as written from the packed tarballs', () => {
  let tmp = '';
  let scratch = '';

  beforeAll(async () => {
    await runScratchAsync(process.execPath, [require.resolve('nx/bin/nx.js'), 'run', 'colorize:build', '--outputStyle=static'], root, 240_000);
    tmp = packTempDir();
    const packed = await packPackages(
      PACKAGES.map((p) => path.join(root, 'packages', p)),
      tmp,
      { ignoreScripts: true },
    );
    scratch = await installScratch(tmp, [...packed.map((p) => p.tarball), `@tensorflow/tfjs-core@${tfjsVersion}`, `@tensorflow/tfjs-backend-cpu@${tfjsVersion}`, `@tensorflow/tfjs-layers@${tfjsVersion}`], { timeoutMs: 240_000 });
    const grey = path.join(root, 'packages/colorize/demo/grey/astronaut.jpg');
    for (const name of ['grey.jpg', 'photo.jpg', 'photos/one.jpg']) {
      fs.mkdirSync(path.dirname(path.join(scratch, name)), { recursive: true });
      fs.copyFileSync(grey, path.join(scratch, name));
    }
  }, 600_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('finds the blocks (the root README snippet among them), and every skipped one says why', () => {
    expect(runnable.some((b) => b.where === 'README.md #1' || (b.where.startsWith('README.md') && b.code.includes("colorize('grey.jpg')")))).toBe(true);
    expect(runnable.length).toBeGreaterThanOrEqual(10);
    for (const b of blocks.filter((x) => x.skip != null)) expect(b.skip, b.where).toMatch(/^not run \(.{10,}\)$/);
  });

  it('every block type-checks as written (strict, against the installed .d.ts)', async () => {
    const files = runnable.map((b, i) => {
      const name = `block${i}.ts`;
      fs.writeFileSync(path.join(scratch, name), `// ${b.where}\n${b.code}\nexport {};\n`);
      return name;
    });
    fs.writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: [], lib: ['ES2022', 'DOM'], skipLibCheck: true }, files }),
    );
    let output = '';
    try {
      output = await runScratchAsync(process.execPath, [tscBin, '-p', 'tsconfig.json'], scratch, 120_000);
    } catch (e) {
      const names = Object.fromEntries(runnable.map((b, i) => [`block${i}.ts`, b.where]));
      throw new Error(String((e as Error).message).replace(/block\d+\.ts/g, (f) => `${f} (${names[f]})`));
    }
    expect(output).toBe('');
  });

  for (const block of runnable) {
    it(`${block.where} runs with plain node (the root README's snippet silently)`, async () => {
      const file = path.join(scratch, `run-${block.where.replace(/[^\w]+/g, '-')}.mjs`);
      fs.writeFileSync(file, block.code);
      const r = await new Promise<{ stderr: string }>((resolve, reject) =>
        execFile(process.execPath, [file], { cwd: scratch, encoding: 'utf8', timeout: 120_000, env: scratchEnv() }, (err, stdout, stderr) =>
          err ? reject(new Error(`${block.where}: ${err.message.split('\n')[0]}\n${stdout}${stderr}`)) : resolve({ stderr }),
        ),
      );
      if (block.where.startsWith('README.md')) expect(r.stderr, block.where).toBe('');
      for (const line of r.stderr.split('\n')) expect(line.length, `${block.where}: ${line.slice(0, 200)}`).toBeLessThan(300);
    });
  }

  it('the root README snippet wrote color.png at the size of grey.jpg', async () => {
    const sharp = (await import('sharp')).default;
    const [a, b] = await Promise.all([sharp(path.join(scratch, 'color.png')).metadata(), sharp(path.join(scratch, 'grey.jpg')).metadata()]);
    expect([a.width, a.height]).toEqual([b.width, b.height]);
  });
});
