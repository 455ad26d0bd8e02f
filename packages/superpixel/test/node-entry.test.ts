// `@disco/superpixel/node` without the CLI's optional peer `commander`: the entry point loads (the
// SPixNet files and the training run need no CLI library) and only the CLI functions fail, with a
// one-line message naming the missing peer.
import { describe, expect, it, vi } from 'vitest';

vi.mock('commander', () => {
  const e = new Error("Cannot find package 'commander' imported from spixnet.js") as Error & { code: string };
  e.code = 'ERR_MODULE_NOT_FOUND';
  throw e;
});

describe('@disco/superpixel/node without commander', () => {
  it('imports, exposes the loaders and the run, and the CLI says which peer is missing', async () => {
    const node = await import('../src/node.js');
    expect(typeof node.loadSpixNet).toBe('function');
    expect(typeof node.trainSpixNetRun).toBe('function');
    await expect(node.runSpixnetCli(['--help'])).rejects.toThrow(/^spixnet: the command line needs the optional peer 'commander' \(npm i commander@\^14\)$/);
  });
});
