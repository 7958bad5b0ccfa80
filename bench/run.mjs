// Runs every benchmark (bundled to out/bench by `npm run build`) and rewrites the BENCHMARKS-*.md
// files with this machine's numbers. `npm run bench`
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = join(new URL('..', import.meta.url).pathname, 'out', 'bench');
let failed = 0;
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.bench.js'))
  .sort()) {
  console.log(`\n## ${f}`);
  const r = spawnSync(process.execPath, ['--enable-source-maps', join(dir, f), '--write'], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
