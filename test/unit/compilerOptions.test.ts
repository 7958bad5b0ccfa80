// The option table (server/src/kbuild/compilerOptions.ts) against the real clang-19, asked the way
// Kbuild's cc-option asks (scripts/Makefile.compiler, try-run):
//   clang-19 -Werror <option> -c -x c /dev/null -o /dev/null --target=<arch triple>
// for every row and every arch the table speaks for. Only this test runs the compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compilerAccepts,
  OPTION_TABLE,
  optionRow,
  TESTED_ARCHES,
  VERIFIED_CLANG_MAJOR,
  type OptionRow,
} from '../../server/src/kbuild/compilerOptions';
import { missingToolchain } from '../helpers/kernelBuild';

const missing = missingToolchain(['clang-19', 'llvm-profdata-19']);

/** try-run's question: does the compile succeed? */
function tryRun(flags: string[], triple: string, cwd: string): { ok: boolean; stderr: string } {
  const r = spawnSync(
    'clang-19',
    ['-Werror', ...flags, '-c', '-x', 'c', '/dev/null', '-o', '/dev/null', `--target=${triple}`],
    { cwd, encoding: 'utf8' },
  );
  return { ok: r.status === 0, stderr: (r.stderr ?? '').split('\n')[0] };
}

/** What the table says clang 19 does with the row alone on `arch` (true, false, or needs flags). */
function tableSays(r: OptionRow, arch: string): boolean | readonly string[] {
  if (!r.clang) return false;
  if (r.clang.arches && !r.clang.arches.includes(arch)) return false;
  const needs = r.clang.needs;
  if (needs && (!needs.arches || needs.arches.includes(arch))) return needs.flags;
  return true;
}

test(
  'the option table matches clang-19 as cc-option asks it, on every tested arch',
  { skip: missing ?? false, timeout: 10 * 60_000 },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kbd-options-'));
    try {
      // Valid files for the value-taking options: a text sample profile, an indexed instrumentation
      // profile (and default.profdata, which bare -fprofile-use reads from the working directory).
      const sample = join(dir, 'sample.prof');
      writeFileSync(sample, 'foo:100:10\n 0: 10\n');
      writeFileSync(join(dir, 'instr.proftext'), 'foo\n# Func Hash:\n0\n# Num Counters:\n1\n# Counter Values:\n1\n');
      execFileSync('llvm-profdata-19', ['merge', '-o', join(dir, 'instr.profdata'), join(dir, 'instr.proftext')]);
      execFileSync('llvm-profdata-19', ['merge', '-o', join(dir, 'default.profdata'), join(dir, 'instr.proftext')]);
      const empty = join(dir, 'empty.txt');
      writeFileSync(empty, '');
      const withValue = (r: OptionRow, file: string) => (r.option.endsWith('=') ? `${r.option}${file}` : r.option);
      const noFiles = mkdtempSync(join(tmpdir(), 'kbd-options-nofiles-'));
      let checks = 0;
      const wrong: string[] = [];
      try {
        for (const r of OPTION_TABLE) {
          for (const [arch, triple] of Object.entries(TESTED_ARCHES)) {
            if (r.value) {
              // Accepted with a valid file, rejected without one: no static answer.
              const file =
                r.value === 'sample-profile'
                  ? sample
                  : r.value === 'instr-profile'
                    ? join(dir, 'instr.profdata')
                    : empty;
              const good = tryRun([withValue(r, file)], triple, dir);
              const bad = tryRun([withValue(r, '/nonexistent/kbd.prof')], triple, noFiles);
              if (!good.ok) wrong.push(`${r.option} (${arch}) with a valid file: ${good.stderr}`);
              if (bad.ok) wrong.push(`${r.option} (${arch}) accepted without its file`);
              assert.equal(
                compilerAccepts(
                  { compiler: 'clang', compilerMajor: VERIFIED_CLANG_MAJOR, arch, source: 'test' },
                  withValue(r, file),
                ),
                undefined,
                `${r.option}: no static answer`,
              );
              checks += 2;
              continue;
            }
            const says = tableSays(r, arch);
            const alone = tryRun([r.option], triple, dir);
            if (Array.isArray(says)) {
              if (alone.ok) wrong.push(`${r.option} (${arch}) accepted without ${says.join(' ')}`);
              const together = tryRun([...says, r.option], triple, dir);
              if (!together.ok) wrong.push(`${r.option} (${arch}) with ${says.join(' ')}: ${together.stderr}`);
              checks += 2;
            } else {
              if (alone.ok !== says)
                wrong.push(
                  `${r.option} (${arch}): table says ${says ? 'accepted' : 'rejected'}, clang-19 ${alone.ok ? 'accepts it' : `says: ${alone.stderr}`}`,
                );
              // The query the probes use gives the same answer for a clang 19 build of that arch.
              assert.equal(
                compilerAccepts(
                  { compiler: 'clang', compilerMajor: VERIFIED_CLANG_MAJOR, arch, source: 'test' },
                  r.option,
                ),
                says,
                `compilerAccepts ${r.option} ${arch}`,
              );
              checks++;
            }
          }
        }
      } finally {
        rmSync(noFiles, { recursive: true, force: true });
      }
      t.diagnostic(
        `option table: ${OPTION_TABLE.length} rows, ${checks} try-run checks on ${Object.keys(TESTED_ARCHES).join(', ')}`,
      );
      assert.deepEqual(wrong, [], 'every row as clang-19 answers it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the table covers the profile, section-layout, sanitizer and instrumentation options it must', () => {
  const required = [
    '-fprofile-sample-use=/p.prof',
    '-fauto-profile=/p.prof',
    '-fprofile-instr-use=/p.profdata',
    '-fprofile-use=/p.profdata',
    '-fprofile-use',
    '-fno-profile-sample-use',
    '-fno-auto-profile',
    '-fno-profile-instr-use',
    '-fno-profile-use',
    '-fprofile-instr-generate',
    '-fprofile-generate',
    '-fcs-profile-generate',
    '-fprofile-sample-accurate',
    '-ffunction-sections',
    '-fdata-sections',
    '-fbasic-block-sections=labels',
    '-fbasic-block-address-map',
    '-fsplit-machine-functions',
    '-fstack-size-section',
    '-funique-section-names',
    '-fsanitize=kernel-address',
    '-fsanitize=kcfi',
    '-fsanitize=shadow-call-stack',
    '-fsanitize-coverage=trace-pc',
    '-pg',
    '-mfentry',
    '-mrecord-mcount',
    '-fpatchable-function-entry=2',
    '-finstrument-functions',
    '-fcoverage-mapping',
  ];
  assert.deepEqual(
    required.filter((o) => !optionRow(o)),
    [],
    'options without a row',
  );
  const options = OPTION_TABLE.map((r) => r.option);
  assert.equal(new Set(options).size, options.length, 'one row per option');
});

test('answers for other clang versions, other compilers and untested arches', () => {
  const clang = (compilerMajor: number | undefined, arch = 'arm64') => ({
    compiler: 'clang' as const,
    compilerMajor,
    arch,
    source: 'test',
  });
  // A row with a first version: older clang rejects it, newer accepts it.
  assert.equal(compilerAccepts(clang(15), '-fsanitize=kcfi'), false);
  assert.equal(compilerAccepts(clang(16), '-fsanitize=kcfi'), true);
  assert.equal(compilerAccepts(clang(21), '-fsanitize=kcfi'), true);
  // Known for clang 19 only: no answer for 18.
  assert.equal(compilerAccepts(clang(18), '-fbasic-block-address-map'), undefined);
  // Unknown version: only what every supported clang accepts.
  assert.equal(compilerAccepts(clang(undefined), '-fno-profile-sample-use'), true);
  assert.equal(compilerAccepts(clang(undefined), '-fsanitize=kcfi'), undefined);
  // Rejected by 19; a later clang may accept it.
  assert.equal(compilerAccepts(clang(19), '-fsanitize-kcfi-arity'), false);
  assert.equal(compilerAccepts(clang(21), '-fsanitize-kcfi-arity'), undefined);
  // GCC, an arch the table was not checked on, an option it does not hold: no answer.
  assert.equal(
    compilerAccepts({ compiler: 'gcc', compilerMajor: 12, arch: 'arm64', source: 'test' }, '-fno-profile-sample-use'),
    undefined,
  );
  assert.equal(compilerAccepts(clang(19, 'riscv'), '-ffunction-sections'), undefined);
  assert.equal(compilerAccepts(clang(19), '-Wno-unused-but-set-variable'), undefined);
});
