// A first fetch says what it downloads (how many packages, how big, where), shows one progress line
// per package and names the explicit step; without Debian's tools it fails with one line naming
// them. Fake tools on PATH stand in for apt: no network, nothing downloaded.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchPhotos, PHOTO_PACKAGES } from '../src/photos.js';

let dir = '';
let savedPath: string | undefined;

function fakeTool(name: string, script: string): void {
  const file = path.join(dir, 'bin', name);
  fs.writeFileSync(file, `#!/bin/sh\n${script}\n`);
  fs.chmodSync(file, 0o755);
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disco-fetch-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  savedPath = process.env.PATH;
  process.env.PATH = path.join(dir, 'bin'); // only the fakes
});
afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fetchPhotos: announcement, progress, missing tools', () => {
  it('without dpkg-deb: one line naming it and the way out, before any download', async () => {
    fakeTool('apt-get', 'echo "apt 2.6"');
    fakeTool('apt-cache', 'echo "apt 2.6"');
    const log: string[] = [];
    await expect(fetchPhotos({ cacheDir: path.join(dir, 'cache'), log: (l) => log.push(l) })).rejects.toThrow(
      /^fetchPhotos: the photo sets come from Debian's archive and need apt-get, apt-cache, dpkg-deb; missing here: dpkg-deb\. Use your own photos instead \(disco-experiments ablation: --data <folder> --heldout <folder>; training: --data <folder>\)$/,
    );
    expect(log).toEqual([]);
  });

  it(`announces ${PHOTO_PACKAGES.length} packages with their total size and where, then one line per package`, async () => {
    // apt-cache show: every package is 100 MB; apt-get download: the network is down.
    fakeTool('apt-cache', 'if [ "$1" = show ]; then echo "Size: 100000000"; fi');
    fakeTool('apt-get', 'if [ "$1" = download ]; then echo "E: Failed to fetch (network unreachable)" >&2; exit 100; fi; echo "apt 2.6"');
    fakeTool('dpkg-deb', 'echo "dpkg-deb 1.21"');
    const log: string[] = [];
    const cache = path.join(dir, 'cache');
    await expect(fetchPhotos({ cacheDir: cache, log: (l) => log.push(l) })).rejects.toThrow(/^fetchPhotos: cannot download gcompris-qt-data=/);
    const n = PHOTO_PACKAGES.length;
    expect(log[0]).toBe(
      `photos: downloading ${n} Debian packages (${((n * 1e8) / 1e9).toFixed(2)} GB) with apt-get into ${path.join(cache, 'debs')}, then extracting the photo sets into ${cache} — once: later runs use the cache. \`npx nx run photos:fetch\` does this as its own step.`,
    );
    expect(log[1]).toBe(`photos: [1/${n}] downloading ${PHOTO_PACKAGES[0]!.name}=${PHOTO_PACKAGES[0]!.version} (100.0 MB)…`);
  });
});
