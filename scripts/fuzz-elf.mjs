#!/usr/bin/env node
// Full robustness run of the ELF reader: every truncation of the small fixtures plus seeded mutations
// (default 100,000 cases). Bundles server/src/elf/fuzz.ts with esbuild into a temp dir and runs it.
//   node scripts/fuzz-elf.mjs [--cases N] [--seed S]
import { build } from 'esbuild';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const cases = arg('--cases', 100000);
const seed = arg('--seed', 20221024);
const out = join(mkdtempSync(join(tmpdir(), 'kbd-fuzz-')), 'fuzz.cjs');
await build({
  entryPoints: [join(root, 'test/helpers/elfFuzz.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  outfile: out,
  logLevel: 'warning',
});
const fuzz = createRequire(import.meta.url)(out);
const fx = (n) => [n, readFileSync(join(root, 'test/fixtures/elf', n))];
const bases = [
  'aarch64-profile.o',
  'aarch64-hyp.o',
  'aarch64-hyp-profile.o',
  'aarch64-ldr.o',
  'aarch64_be-hyp-profile.o',
  'x86_64-profile.o',
  'arm32.o',
  'mips-be.o',
  'ppc64-be.o',
  'ppc32-be.o',
  'libregular.a',
  'libthin.a',
  'bitcode.o',
].map(fx);
const stats = fuzz.newStats();
const t0 = Date.now();
for (const [n, b] of bases.slice(0, 4)) await fuzz.fuzzTruncations(n, b, stats);
const truncations = stats.cases;
await fuzz.fuzzMutations(bases, cases, seed, stats);
const s = {
  ...stats,
  failures: stats.failures.length,
  truncations,
  mutations: stats.cases - truncations,
  seconds: (Date.now() - t0) / 1000,
};
console.log(JSON.stringify(s));
for (const f of stats.failures.slice(0, 10)) console.error(`FAIL ${f.label}\n${f.error}\n`);
process.exit(stats.failures.length === 0 ? 0 : 1);
