// The demo and the CLI run the same default model: `npx disco colorize` without --model resolves
// to DEFAULT_MODEL's folder, and the page picks its model files by DEFAULT_MODEL only (no model
// path written in the page). The browser test (demo.browser.test.ts) checks the running page too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, EMBEDDED_MODELS } from '@disco/colorize';
import { resolveModelArg } from '@disco/colorize/node';

const main = fs.readFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/main.ts'), 'utf8');

describe('default model', () => {
  it('the CLI default and the demo default are the same name, tiny-pf', () => {
    expect(DEFAULT_MODEL).toBe('tiny-pf');
    expect(EMBEDDED_MODELS).toContain(DEFAULT_MODEL);
    expect(path.basename(resolveModelArg(undefined))).toBe(DEFAULT_MODEL);
    expect(main).toMatch(/k\.endsWith\(`\/models\/\$\{DEFAULT_MODEL\}\/\$\{file\}`\)/);
    expect(main).not.toMatch(/models\/(tiny|tiny-pf)\//);
  });
});
