#!/usr/bin/env node
// Sums the Vitest JSON reports every package's `test` target writes to .reports/ and prints one
// closing line: `Tests: N passed, N failed` (plus skipped). Exits 1 if a report is missing or failed.
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', '.reports');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const f of files.sort()) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  rows.push(`  ${path.basename(f, '.json').padEnd(12)} ${String(r.numPassedTests).padStart(4)} passed ${String(r.numFailedTests).padStart(3)} failed`);
}
console.log(rows.join('\n'));
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (process.env.DISCO_TEST_FAST === '1') console.log('(npm run test:fast: the slow end-to-end tests of vitest.shared.ts SLOW_TESTS were left out; npm test runs them)');
process.exit(files.length === 0 || failed > 0 ? 1 : 0);
