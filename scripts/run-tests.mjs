// Runs every bundled test under out/test with node's test runner, except the tiers that have
// their own npm scripts (kernel: a real kernel build, e2e: the real VS Code workbench).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(new URL('..', import.meta.url).pathname, 'out', 'test');
const skipDirs = new Set(['kernel', 'e2e']);
function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!skipDirs.has(name)) out.push(...find(p));
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const files = find(root).sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under out/test (did the build run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
