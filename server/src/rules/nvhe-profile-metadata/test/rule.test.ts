// The nvhe rule and both fixes over Makefile variants (test/fixtures/nvhe-variants, made by gen.py).
// Each expected verdict is written down here, next to the reason for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseMakefile } from '../../../make/parser';
import { analyzeNvhe, type RuleInput } from '../analysis';
import { computeFix } from '../fixes';
import { splitLines } from '../../../make/edits';
import { root } from '../../../../../test/helpers/kernelTree';
import { parseConfig, type KbuildTree } from '../../../kbuild/kbuildTree';
import { toolchainFromConfig } from '../../../kbuild/toolchain';

const dir = join(root, 'test', 'fixtures', 'nvhe-variants');

function input(name: string): { text: string; input: RuleInput } {
  const text = readFileSync(join(dir, name, 'Makefile'), 'utf8');
  const sibling = (n: string) => {
    const p = join(dir, name, n);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  };
  return { text, input: { makefile: parseMakefile(text), objDir: 'arch/arm64/kvm/hyp/nvhe', readSibling: sibling } };
}

type Outcome = 'leaks' | 'alias' | 'clean' | 'depends';
interface Expect {
  outcome: Outcome;
  why: string;
  /** Text the related explanations must contain (an ineffective attempt). */
  explains?: RegExp;
  formA: boolean;
  formB: boolean;
}

const EXPECTED: Record<string, Expect> = {
  'prefix-6.1': { outcome: 'leaks', why: 'no fix at all', formA: true, formB: true },
  'prefix-6.12': { outcome: 'leaks', why: 'no fix, 6.12 shape (no CFI filter, UBSAN line)', formA: true, formB: true },
  'v3-6.1': {
    outcome: 'alias',
    why: 'upstream filters -fprofile-sample-use=% -fprofile-use=%; -fauto-profile= and -fprofile-instr-use= still pass',
    formA: true,
    formB: true,
  },
  'v3-6.12': { outcome: 'alias', why: 'as v3-6.1', formA: true, formB: true },
  'v2-cmd-hyprel': { outcome: 'clean', why: 'objcopy -R on $< before gen-hyprel', formA: false, formB: false },
  'v1-cc-option': {
    outcome: 'leaks',
    why: 'no toolchain recorded: both answers of cc-option are evaluated; -fno-profile-sample-use leaves -fprofile-use= through, -fno-profile-use leaves -fprofile-sample-use= through',
    formA: true,
    formB: true,
  },
  'cc-option-ccflags': {
    outcome: 'depends',
    why: 'no toolchain recorded: if the compiler accepts both negations nothing leaks, else a profile family does',
    formA: false,
    formB: false,
  },
  'cc-option-instr-only': {
    outcome: 'leaks',
    why: 'whatever the compiler answers, -fno-profile-instr-use does not negate the sample profile',
    formA: true,
    formB: true,
  },
  'full-filter': { outcome: 'clean', why: 'every spelling filtered', formA: false, formB: false },
  'filter-no-percent': {
    outcome: 'leaks',
    why: 'filter-out pattern without % cannot match -flag=value',
    explains: /no '%'/,
    formA: true,
    formB: true,
  },
  'fix-in-dead-conditional': {
    outcome: 'leaks',
    why: 'the fix sits in ifeq ($(CONFIG_CC_IS_CLANG),), never taken with clang',
    explains: /not taken/,
    formA: true,
    formB: true,
  },
  'fix-in-clang-conditional': {
    outcome: 'alias',
    why: 'ifdef CONFIG_CC_IS_CLANG is taken with clang: v3 applies',
    formA: true,
    formB: true,
  },
  'negation-before': {
    outcome: 'leaks',
    why: 'the negations are prepended, so they come before the profile flag',
    explains: /clang uses the last/,
    formA: true,
    formB: true,
  },
  'negation-ccflags-after': {
    outcome: 'clean',
    why: 'ccflags-y comes after KBUILD_CFLAGS on the command line: both families negated',
    formA: false,
    formB: false,
  },
  'ccflags-remove': {
    outcome: 'alias',
    why: 'ccflags-remove-y filters the flags out of c_flags',
    formA: true,
    formB: true,
  },
  'removal-after-genhyprel': {
    outcome: 'leaks',
    why: 'objcopy runs after gen-hyprel',
    explains: /after gen-hyprel/,
    formA: true,
    formB: true,
  },
  'removal-in-hypcopy': {
    outcome: 'leaks',
    why: 'HYPCOPY runs after gen-hyprel',
    explains: /HYPCOPY/,
    formA: true,
    formB: true,
  },
  'removal-after-ld': {
    outcome: 'clean',
    why: 'objcopy -R $@ right after the ld -r of the gen-hyprel input',
    formA: false,
    formB: false,
  },
  'removal-wildcard-long-option': {
    outcome: 'clean',
    why: "--remove-section='.llvm.*' before gen-hyprel",
    formA: false,
    formB: false,
  },
  'removal-wrong-file': {
    outcome: 'leaks',
    why: 'objcopy removes from $@ (hyp-reloc.S), not from the input',
    explains: /after gen-hyprel|another file|reads/,
    formA: true,
    formB: true,
  },
  'lds-discard': {
    outcome: 'clean',
    why: '/DISCARD/ in hyp.lds.S drops the section in the ld -r',
    formA: false,
    formB: false,
  },
  'lds-discard-if0': { outcome: 'leaks', why: 'the /DISCARD/ is inside #if 0', formA: true, formB: true },
  'crlf-prefix': { outcome: 'leaks', why: 'pre-fix, CRLF', formA: true, formB: true },
  'crlf-v3': { outcome: 'alias', why: 'v3, CRLF', formA: true, formB: true },
  'spaces-continuation': {
    outcome: 'leaks',
    why: 'pre-fix, continuation lines indented with spaces',
    formA: true,
    formB: true,
  },
  'no-filter-line': {
    outcome: 'leaks',
    why: 'no filter-out line: the diagnostic goes on the gen-hyprel command',
    formA: true,
    formB: true,
  },
  'per-object-readd': {
    outcome: 'leaks',
    why: 'CFLAGS_switch.nvhe.o re-adds the profile after KBUILD_CFLAGS: form A on KBUILD_CFLAGS cannot fix it',
    formA: false,
    formB: true,
  },
};

for (const [name, want] of Object.entries(EXPECTED)) {
  test(`nvhe rule: ${name} -> ${want.outcome} (${want.why})`, () => {
    const { text, input: inp } = input(name);
    const lines = splitLines(text);
    const v = analyzeNvhe(inp, (l) => lines[l]?.length ?? 0);
    assert.ok(v, 'the pipeline is found');
    assert.equal(v.pipeline.genHyprelInput, 'arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o');
    const outcome: Outcome = v.dependsOn ? 'depends' : v.leaks ? 'leaks' : v.aliasLeak ? 'alias' : 'clean';
    assert.equal(
      outcome,
      want.outcome,
      `leaking flags: ${v.leakingFlags.join(' ')}; removal: ${v.sectionRemoval?.how ?? 'none'}`,
    );
    if (want.explains)
      assert.ok(
        v.ineffective.some((i) => want.explains?.test(i.message)),
        `explanations: ${v.ineffective.map((i) => i.message).join(' | ')}`,
      );
    // The anchor is the last live KBUILD_CFLAGS filter-out line, else the gen-hyprel command.
    const anchorText = lines[v.anchor.start.line];
    if (name === 'no-filter-line') assert.match(anchorText, /gen-hyprel/);
    else if (outcome !== 'clean') assert.match(anchorText, /^KBUILD_CFLAGS\s*:?=\s*\$\(filter-out/);

    for (const form of ['A', 'B'] as const) {
      const fix = computeFix(text, inp, form);
      assert.equal(!!fix, form === 'A' ? want.formA : want.formB, `form ${form} offered`);
      if (!fix) continue;
      // Applying it clears the rule, and applying it again changes nothing (it is no longer offered).
      const again = { ...inp, makefile: parseMakefile(fix.newText) };
      const after = analyzeNvhe(again);
      assert.ok(after && !after.leaks && !after.aliasLeak && !after.dependsOn, `form ${form} clears the rule`);
      assert.equal(computeFix(fix.newText, again, form), undefined, `form ${form} is idempotent`);
      // Line ends are kept.
      if (text.includes('\r\n')) assert.ok(!/[^\r]\n/.test(fix.newText), 'CRLF kept');
      else assert.ok(!fix.newText.includes('\r'), 'LF kept');
      // Only insertions: every original line is still there, in order.
      const newLines = splitLines(fix.newText);
      let j = 0;
      for (const l of lines) {
        while (
          j < newLines.length &&
          newLines[j] !== l &&
          newLines[j].replace(/\$\(OBJCOPY\) -R \.llvm\.call-graph-profile \S+; /, '') !== l
        )
          j++;
        assert.ok(j < newLines.length, `original line kept: ${l}`);
        j++;
      }
    }
  });
}

test('form A goes right after the existing filter-out line, in the file style', () => {
  for (const name of ['prefix-6.1', 'spaces-continuation', 'crlf-prefix']) {
    const { text, input: inp } = input(name);
    const fix = computeFix(text, inp, 'A');
    assert.ok(fix);
    const lines = splitLines(text);
    const anchor = lines.findIndex((l) => l.startsWith('KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)'));
    const newLines = splitLines(fix.newText);
    assert.equal(newLines[anchor], lines[anchor]);
    assert.match(newLines[anchor + 1], /^# /, 'a comment comes first');
    const start = newLines.findIndex(
      (l, i) => i > anchor && l.startsWith('KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=%'),
    );
    assert.ok(start > anchor && start <= anchor + 4, 'the filter line follows the comment');
    const block = newLines.slice(start, start + 3).join('\n');
    for (const p of ['-fprofile-sample-use=%', '-fprofile-use=%', '-fauto-profile=%', '-fprofile-instr-use=%'])
      assert.ok(block.includes(p), p);
    const indent = name === 'spaces-continuation' ? '             ' : '\t';
    assert.ok(
      newLines[start + 1].startsWith(indent) &&
        !newLines[start + 1].startsWith(indent + (indent === '\t' ? ' ' : '\t')),
      `continuation indented like the file: ${JSON.stringify(newLines[start + 1])}`,
    );
  }
});

test("form B puts objcopy -R on gen-hyprel's input before gen-hyprel, like the v2 patch", () => {
  const { text, input: inp } = input('prefix-6.1');
  const fix = computeFix(text, inp, 'B');
  assert.ok(fix);
  assert.match(
    fix.newText,
    /cmd_hyprel = \$\(OBJCOPY\) -R \.llvm\.call-graph-profile \$<; \$\(obj\)\/gen-hyprel \$< > \$@/,
  );
});

test('Makefiles that do not run gen-hyprel are not nvhe Makefiles', () => {
  for (const name of ['not-nvhe-kvm', 'not-nvhe-mentions-gen-hyprel-in-comment']) {
    assert.equal(analyzeNvhe(input(name).input), undefined, name);
  }
});

/** A tree whose configuration records only the toolchain (no Kbuild scripts: the built-in flags formula). */
function treeWith(config: string): KbuildTree {
  const parsed = parseConfig(config);
  return {
    root: '/nonexistent',
    config: parsed,
    configSource: 'auto.conf',
    toolchain: toolchainFromConfig(parsed, 'auto.conf'),
    prelude: [],
    unsetConfig: [],
    inputs: [],
  };
}

test("cc-option answered from the build's recorded toolchain: clang 19 on arm64", () => {
  const clang19 = treeWith('CONFIG_CC_IS_CLANG=y\nCONFIG_CLANG_VERSION=190107\nCONFIG_ARM64=y\n');
  const verdict = (name: string) => analyzeNvhe({ ...input(name).input, tree: clang19 });
  // clang 19 accepts both negations: nothing gets through (the real build passes with both sample spellings).
  const ccflags = verdict('cc-option-ccflags');
  assert.ok(
    ccflags && !ccflags.leaks && !ccflags.aliasLeak && !ccflags.dependsOn,
    `leaking: ${ccflags?.leakingFlags.join(' ')}`,
  );
  // v1: only the sample profile is negated; the instrumentation spellings still pass (docs/real-builds.md section 3).
  const v1 = verdict('v1-cc-option');
  assert.ok(v1?.leaks);
  assert.deepEqual(
    v1.leakingFlags.filter((f) => /sample|auto-profile/.test(f)),
    [],
    'the sample spellings are negated',
  );
  assert.equal(v1.spellingsDependOn, undefined, 'nothing was left unanswered');
  // Negating only the instrumentation profile leaves the sample spellings through.
  const instr = verdict('cc-option-instr-only');
  assert.ok(instr?.leaks);
  assert.ok(
    instr.leakingFlags.some((f) => f.startsWith('-fprofile-sample-use=')),
    instr.leakingFlags.join(' '),
  );
});

test('with a compiler the table does not know, the verdict says what it depends on', () => {
  const gcc = treeWith('CONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\nCONFIG_ARM64=y\n');
  const v = analyzeNvhe({ ...input('cc-option-ccflags').input, tree: gcc });
  assert.ok(v?.dependsOn);
  assert.ok(!v.leaks && !v.aliasLeak, 'no warning');
  assert.match(
    v.dependsOn,
    /if the compiler accepts `-fno-profile-sample-use` and `-fno-profile-use`, no profile flag reaches gen-hyprel/,
  );
  assert.match(
    v.dependsOn,
    /if the compiler accepts `-fno-profile-use` but does not accept `-fno-profile-sample-use`, -fprofile-sample-use=…, -fauto-profile=… reach/,
  );
  assert.deepEqual(v.probesAssumed.sort(), ['-fno-profile-sample-use', '-fno-profile-use']);
  // No fix is offered for a verdict that is not one.
  assert.equal(
    computeFix(input('cc-option-ccflags').text, { ...input('cc-option-ccflags').input, tree: gcc }, 'A'),
    undefined,
  );
});
