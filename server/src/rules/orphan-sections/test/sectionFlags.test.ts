// The flag -> sections table against the real clang-19: each flag, compiled into a small aarch64
// object, makes exactly the sections the table says (names read back with llvm-readelf-19), and the
// object compiled without it has none of them. Only this test runs the compiler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLlvmReadelf, findTool } from '../../../../../test/helpers/hostTools';
import { effectiveSectionFlags, flagsMaking, SECTION_FLAGS, sectionMatches } from '../sectionFlags';

const clang = findTool(['clang-19']);
const readelf = findLlvmReadelf();
const missing = !clang ? 'clang-19 is not installed' : !readelf ? 'llvm-readelf-19 is not installed' : undefined;
if (missing && process.env.CI) throw new Error(`CI needs ${missing}`);

const SOURCE = 'int g = 1; int v;\nint bar(int);\nint foo(int x) { if (x > 3) return bar(x) + g; return v + x; }\n';
const PROFILE = 'foo:100000:1000\n 0: 1000\n 1: 1000 bar:1000\n';
/** A Propeller cluster list (create_llvm_prof's cc profile): foo's blocks 0 and 1 in one cluster. */
const LIST = '!foo\n!!0 1\n';

/** Values for `option=` flags, and what else the flag needs to make its sections. */
const SPELLING: Record<string, { flag: string; with?: string[] }> = {
  '-fbasic-block-sections=list=': { flag: '-fbasic-block-sections=list=LIST' },
  '-fbasic-block-sections=': { flag: '-fbasic-block-sections=labels' },
  '-fpatchable-function-entry=': { flag: '-fpatchable-function-entry=2' },
  '-fprofile-sample-use=': { flag: '-fprofile-sample-use=PROFILE' },
  '-fcoverage-mapping': { flag: '-fcoverage-mapping', with: ['-fprofile-instr-generate'] },
};

function sections(dir: string, args: string[]): { name: string; flags: string }[] {
  const out = join(dir, 't.o');
  const cc = spawnSync(
    clang as string,
    ['--target=aarch64-linux-gnu', '-O2', '-c', ...args, join(dir, 't.c'), '-o', out],
    { encoding: 'utf8' },
  );
  assert.equal(cc.status, 0, cc.stderr);
  const r = spawnSync(readelf as string, ['-S', '-W', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const list: { name: string; flags: string }[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+([A-Z]*)\s/.exec(line);
    if (m) list.push({ name: m[1], flags: m[2] });
  }
  return list;
}

test('every table flag makes its sections with clang-19, and only with the flag', { skip: missing ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-secflags-'));
  try {
    writeFileSync(join(dir, 't.c'), SOURCE);
    writeFileSync(join(dir, 'p.prof'), PROFILE);
    writeFileSync(join(dir, 'cc_profile.txt'), LIST);
    const plain = sections(dir, []);
    for (const entry of SECTION_FLAGS) {
      const spell = SPELLING[entry.option] ?? { flag: entry.option };
      const flag = spell.flag.replace('PROFILE', join(dir, 'p.prof')).replace('LIST', join(dir, 'cc_profile.txt'));
      const got = sections(dir, [...(spell.with ?? []), flag]);
      assert.deepEqual(
        effectiveSectionFlags([flag]).map((e) => e.entry),
        [entry],
        `${flag} is read as its table entry`,
      );
      for (const made of entry.sections) {
        const hit = got.find((s) => sectionMatches(made, s.name));
        assert.ok(hit, `${flag} makes ${made.name}: got ${got.map((s) => s.name).join(' ')}`);
        assert.equal(hit.flags.includes('E'), !!made.exclude, `${made.name}: SHF_EXCLUDE as the table says`);
        assert.equal(hit.flags.includes('A'), !!made.alloc, `${made.name}: SHF_ALLOC as the table says`);
        assert.ok(!plain.some((s) => sectionMatches(made, s.name)), `${made.name} is not there without ${flag}`);
        assert.ok(flagsMaking(hit.name).includes(entry), `${hit.name} is traced back to ${entry.option}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the last of a flag and its negation decides, as in clang', () => {
  assert.deepEqual(effectiveSectionFlags(['-fbasic-block-sections=labels', '-fbasic-block-sections=none']), []);
  assert.equal(
    effectiveSectionFlags(['-fno-stack-size-section', '-fstack-size-section'])[0]?.flag,
    '-fstack-size-section',
  );
  assert.deepEqual(effectiveSectionFlags(['-fstack-size-section', '-fno-stack-size-section']), []);
  assert.equal(effectiveSectionFlags(['-O2', '-fbasic-block-sections=labels']).length, 1);
});
