#!/usr/bin/env node
// Fuzzes make text: seeded mutations of real Makefiles and Kbuild .cmd files (the nvhe variants, the
// sample tree, Linux 6.1 files when `scripts/kernel-tree.sh 6.1` can provide them) through the parser,
// evaluator, nvhe rule, both fix forms, symbols/hover and flagsOfCmdFile. Each case runs in a worker
// thread under a watchdog (a case over --case-timeout ms is a hang). Repeatable: same --seed, same cases.
//   node scripts/fuzz-make.mjs [--cases N] [--seed S] [--workers W] [--budget-s SECONDS] [--case-timeout MS] [--save]
// --budget-s stops starting new chunks after that many seconds (for CI); --save writes every failing
// case to test/fixtures/regressions/make/ (they then run in test/reliability/makeFuzz.test.ts, its
// 'regression fixtures' test).
// Exit 1 on any crash, hang or failed check.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const cases = arg('--cases', 200000);
const seed = arg('--seed', 20221024);
const workers = arg('--workers', Math.max(1, availableParallelism()));
const budgetS = arg('--budget-s', 0);
const caseTimeout = arg('--case-timeout', 10000);
const save = process.argv.includes('--save');

const out = join(mkdtempSync(join(tmpdir(), 'kbd-fuzz-make-')), 'fuzz-make.cjs');
await build({
  entryPoints: [join(root, 'test/reliability/makeFuzzCore.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: out,
  logLevel: 'warning',
});
const core = createRequire(import.meta.url)(out);

let linux;
try {
  linux = execFileSync('bash', [join(root, 'scripts/kernel-tree.sh'), '6.1'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
} catch {
  console.error('fuzz-make: no Linux 6.1 tree (apt-get install linux-source-6.1); fuzzing repo fixtures only');
}
const corpus = core.loadCorpus(root, linux);
const t0 = Date.now();
let lastReport = 0;
const stats = await core.runFuzz({
  corpus,
  cases,
  seed,
  workers,
  caseTimeoutMs: caseTimeout,
  workerFile: out,
  budgetMs: budgetS > 0 ? budgetS * 1000 : undefined,
  onProgress: (done) => {
    if (Date.now() - lastReport > 10000) {
      lastReport = Date.now();
      console.error(`fuzz-make: ${done} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  },
});
const summary = {
  seed,
  corpusFiles: corpus.length,
  ...stats,
  failures: stats.failures.length,
  slowestMs: Math.round(stats.slowestMs),
  seconds: (Date.now() - t0) / 1000,
};
console.log(JSON.stringify(summary));
for (const f of stats.failures.slice(0, 10))
  console.error(`FAIL ${f.kind} case ${f.case} (${f.base}; ${f.mutations.join(', ')})\n${f.error}\n`);
if (save && stats.failures.length > 0) {
  const dir = join(root, 'test/fixtures/regressions/make');
  mkdirSync(dir, { recursive: true });
  for (const f of stats.failures) {
    const ext = f.base.endsWith('.cmd') ? 'cmd' : 'mk';
    writeFileSync(join(dir, `seed${seed}-case${f.case}-${f.kind}.${ext}`), f.text);
  }
  console.error(`fuzz-make: wrote ${stats.failures.length} case(s) to ${dir}`);
}
process.exit(stats.crashes + stats.hangs + stats.checkFailures === 0 ? 0 : 1);
