import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('bin/disco.mjs', () => {
  it('--version and -V print the package version without loading the CLI', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const out = execFileSync(process.execPath, [path.join(pkgDir, 'bin', 'disco.mjs'), flag], { encoding: 'utf8' });
      expect(out).toBe(`${version}\n`);
    }
  });
});
