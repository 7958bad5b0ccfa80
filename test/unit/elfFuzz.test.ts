// Bad input: every truncation of small objects and 20,000 seeded mutations through every entry point
// (the full 100,000-case run is `node scripts/fuzz-elf.mjs`). Only ObjectReadError may be thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';
import { fuzzMutations, fuzzTruncations, newStats } from '../helpers/elfFuzz';

const fx = (n: string): [string, Buffer] => [n, readFileSync(join(root, 'test', 'fixtures', 'elf', n))];

test('every prefix of small objects: no crash, no hang', { timeout: 120_000 }, async (t) => {
  const stats = newStats();
  for (const n of ['aarch64-profile.o', 'mips-be.o', 'libregular.a']) {
    const [name, buf] = fx(n);
    await fuzzTruncations(name, buf, stats);
  }
  t.diagnostic(JSON.stringify({ ...stats, failures: stats.failures.length }));
  assert.deepEqual(stats.failures.slice(0, 3), []);
  assert.ok(stats.cases > 3000);
  assert.ok(stats.readErrors > 0 && stats.elf > 0);
});

test('20,000 seeded mutations: no crash, no hang', { timeout: 300_000 }, async (t) => {
  const stats = newStats();
  const bases = [
    'aarch64-profile.o',
    'aarch64-hyp.o',
    'aarch64-ldr.o',
    'aarch64_be-hyp-profile.o',
    'x86_64-profile.o',
    'arm32.o',
    'mips-be.o',
    'ppc64-be.o',
    'libregular.a',
    'libthin.a',
  ].map(fx);
  await fuzzMutations(bases, 20_000, 1, stats);
  t.diagnostic(JSON.stringify({ ...stats, failures: stats.failures.length }));
  assert.deepEqual(stats.failures.slice(0, 3), []);
  assert.equal(stats.cases, 20_000);
  assert.ok(stats.slowestMs < 5_000, `slowest case ${stats.slowestMs} ms`);
});
