import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMakefile } from '../../server/src/make/parser';
import { evaluateMakefile, type EvalOptions } from '../../server/src/make/evaluator';
import { displayValue, isUnknownWord, splitWords, unknownValue } from '../../server/src/make/values';
import type { AssignmentStmt, ConditionalStmt, Statement } from '../../server/src/make/ast';
import { kernelTree, skipUnlessKernel } from '../helpers/kernelTree';

function ev(text: string, opts?: EvalOptions) {
  return evaluateMakefile(parseMakefile(text), opts);
}
function val(text: string, name: string, opts?: EvalOptions): string {
  return displayValue(ev(text, opts).expand(`$(${name})`));
}

test('values: unknown encoding and word splitting', () => {
  const u = unknownValue('CC FLAGS$()');
  assert.equal(u, '\u0001CCFLAGS\u0002');
  assert.equal(isUnknownWord(`-x${u}`), true);
  assert.equal(isUnknownWord('-x'), false);
  assert.deepEqual(splitWords(' a\tb \n c  '), ['a', 'b', 'c']);
  assert.deepEqual(splitWords(''), []);
  assert.equal(displayValue(`a ${u}`), 'a ⟨CCFLAGS⟩');
});

test('flavors: recursive sees later values, simple does not, += keeps flavor, ?=, !=, :::=', () => {
  const e = ev(
    'A = $(B)\nS := $(B)\nB = 1\nA += x\nS += $(B)\nB = 2\nC ?= c\nC ?= d\nD != echo hi\nE :::= $(B) $$x\nB = 3\n',
  );
  assert.equal(e.expand('$(A)'), '3 x');
  assert.equal(e.expand('$(S)'), '1');
  assert.equal(e.variables.get('S')?.value, '1');
  assert.equal(e.variables.get('S')?.flavor, 'simple');
  assert.equal(e.variables.get('A')?.flavor, 'recursive');
  assert.equal(e.variables.get('A')?.value, '$(B) x');
  assert.equal(e.expand('$(C)'), 'c');
  assert.ok(isUnknownWord(e.expand('$(D)')));
  assert.equal(e.variables.get('E')?.flavor, 'recursive');
  assert.equal(e.variables.get('E')?.value, '2 $$x');
  assert.equal(e.expand('$(E)'), '2 $x');
});

test('undefined variables: unknown when never set in the file, empty when set later, undefinedIsEmpty', () => {
  assert.equal(val('X := a $(EXTERNAL) b', 'X'), 'a ⟨EXTERNAL⟩ b');
  assert.equal(val('X := a $(LATER) b\nLATER := 1', 'X'), 'a  b');
  assert.equal(val('X := a $(EXTERNAL) b', 'X', { undefinedIsEmpty: true }), 'a  b');
  assert.equal(val('X := a $(K) b', 'X', { initial: { K: 'k' } }), 'a k b');
  assert.equal(val('X += y', 'X'), '⟨X⟩ y');
  assert.equal(val('X += y', 'X', { undefinedIsEmpty: true }), 'y');
});

test('override, target-specific assignments and undefine', () => {
  const e = ev('override O := 1\nO := 2\nt: T := 5\nT := 1\nU := 1\nundefine U\n');
  assert.equal(e.expand('$(O)'), '1');
  assert.equal(e.expand('$(T)'), '1');
  assert.equal(e.variables.has('U'), false);
  assert.equal(e.variables.get('O')?.history.length, 2);
  assert.equal(e.variables.get('O')?.history[1].ignored, true);
});

test('define: recursive by default, := expands, multi-line body', () => {
  const e = ev('B := b\ndefine R\nline1 $(B)\nline2\nendef\ndefine S :=\n$(B)\nendef\nB := c\n');
  assert.equal(e.expand('$(R)'), 'line1 c\nline2');
  assert.equal(e.expand('$(S)'), 'b');
});

test('conditionals evaluated with current values; unknown tests follow unknownConditions and are recorded', () => {
  const text =
    'A := y\nifeq ($(A),y)\nX := 1\nelse\nX := 2\nendif\nifdef CONFIG_EXT\nY := on\nelse\nY := off\nendif\nifneq ($(A),n)\nZ := z\nendif\n';
  const mf = parseMakefile(text);
  const f = evaluateMakefile(mf);
  assert.equal(f.expand('$(X)'), '1');
  assert.equal(f.expand('$(Y)'), 'off');
  assert.equal(f.expand('$(Z)'), 'z');
  assert.equal(f.unknownConditionals.length, 1);
  assert.equal(f.unknownConditionals[0].kind, 'ifdef');
  const t = evaluateMakefile(mf, { unknownConditions: 'true' });
  assert.equal(t.expand('$(Y)'), 'on');
  const c1 = mf.statements[1] as ConditionalStmt;
  assert.equal(f.liveness(c1.branches[0].body[0]), 'live');
  assert.equal(f.liveness(c1.branches[1].body[0]), 'dead');
  const c2 = mf.statements[2] as ConditionalStmt;
  assert.equal(f.liveness(c2.branches[0].body[0]), 'unknown');
  assert.equal(f.liveness(c2.branches[1].body[0]), 'unknown');
  // Known prefixes that differ decide an ifeq even with unknown parts.
  assert.equal(val('ifeq (y$(EXT),n)\nX := eq\nelse\nX := ne\nendif', 'X'), 'ne');
  assert.equal(ev('ifeq (y$(EXT),n)\nendif').unknownConditionals.length, 0);
});

test('text functions', () => {
  const cases: [string, string][] = [
    ['$(subst ee,EE,feet on the street)', 'fEEt on the strEEt'],
    ['$(patsubst %.c,%.o,x.c.c bar.c baz)', 'x.c.o bar.o baz'],
    ['$(strip   a   b  )', 'a b'],
    ['$(findstring a,a b c)', 'a'],
    ['$(findstring x,a b c)', ''],
    ['$(filter %.c %.s,foo.c bar.c baz.s ugh.h)', 'foo.c bar.c baz.s'],
    ['$(filter-out -O2 -fprofile-use,-O2 -fprofile-use=/p -g)', '-fprofile-use=/p -g'],
    ['$(filter-out -fprofile-use=%,-O2 -fprofile-use=/p -g)', '-O2 -g'],
    ['$(sort foo bar lose foo)', 'bar foo lose'],
    ['$(word 2,foo bar baz)', 'bar'],
    ['$(wordlist 2,3,foo bar baz)', 'bar baz'],
    ['$(words foo bar baz)', '3'],
    ['$(firstword foo bar)', 'foo'],
    ['$(lastword foo bar)', 'bar'],
    ['$(dir src/foo.c hacks)', 'src/ ./'],
    ['$(notdir src/foo.c hacks)', 'foo.c hacks'],
    ['$(suffix src/foo.c src-1.0/bar.c hacks)', '.c .c'],
    ['$(basename src/foo.c src-1.0/bar hacks)', 'src/foo src-1.0/bar hacks'],
    ['$(addsuffix .c,foo bar)', 'foo.c bar.c'],
    ['$(addprefix src/,foo bar)', 'src/foo src/bar'],
    ['$(join a b,.c .o)', 'a.c b.o'],
    ['$(foreach d,a b,$(d)-x)', 'a-x b-x'],
    ['$(if ,yes,no)', 'no'],
    ['$(if x,yes,no)', 'yes'],
    ['$(or ,b,c)', 'b'],
    ['$(and a,b,c)', 'c'],
    ['$(and a,,c)', ''],
    ['$(abspath /a/b/../c/./d)', '/a/c/d'],
    ['$(info hello, world)', ''],
    ['$(V:.o=.c)', 'a.c b.c'],
    ['$(V:%.o=%.s)', 'a.s b.s'],
    ['$(call F,1,2)', 'F:1+2'],
    ['$(value F)', '$(0):$(1)+$(2)'],
    ['$(origin V) $(origin NOPE_SET_LATER) $(flavor F) $(flavor V)', 'file undefined recursive simple'],
  ];
  const e = ev('V := a.o b.o\nF = $(0):$(1)+$(2)\nNOPE_SET_LATER := 1\nundefine NOPE_SET_LATER\n');
  for (const [expr, want] of cases) assert.equal(e.expand(expr), want, expr);
});

test('shell, wildcard and file are never executed: unknown', () => {
  const e = ev('X := $(shell touch /tmp/kbd-must-not-exist) $(wildcard *.c) $(file </etc/passwd)\n');
  assert.deepEqual(splitWords(displayValue(e.expand('$(X)'))), ['⟨shell⟩', '⟨wildcard⟩', '⟨file⟩']);
});

test('unknowns flow: unknown filter-out pattern keeps known words; unknown words stay', () => {
  const e = ev(
    'A := $(filter-out $(UNDEFINED_EXTERNAL), a b)\nB := $(filter-out -fprofile-sample-use=%, -O2 -fprofile-sample-use=$(PWD)/x.prof $(OTHER))\n',
  );
  assert.equal(e.expand('$(A)'), 'a b');
  assert.equal(displayValue(e.expand('$(B)')), '-O2 ⟨OTHER⟩');
  assert.equal(displayValue(e.expand('$(patsubst %.o,%.nvhe.o,a.o $(X)-y.o)')), 'a.nvhe.o ⟨X⟩-y.nvhe.o');
  assert.equal(displayValue(e.expand('$(if $(CONFIG_Z),y,n)')), '⟨if⟩');
  assert.equal(e.expand('$(if $(CONFIG_Z)x,y,n)'), 'y');
});

test('call with $(0)..$(n), nested call scoping, user recursion bounded', () => {
  const e = ev(
    'rev = $(if $(1),$(call rev,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))\nouter = $(call inner,$(1))[$(2)]\ninner = <$(1)|$(2)>\n',
  );
  assert.equal(splitWords(e.expand('$(call rev,a b c)')).join(' '), 'c b a');
  assert.equal(e.expand('$(call outer,x,y)'), '<x|>[y]');
  const inf = ev('f = $(call f)\nX := $(call f)\n', { limits: { maxDepth: 30 } });
  assert.ok(isUnknownWord(inf.expand('$(X)')));
  assert.ok(inf.diagnostics.some((d) => /maxDepth/.test(d.message)));
});

test('self-referencing recursive variable: diagnostic, unknown, no hang', () => {
  const e = ev('X = $(X) y\nZ := $(X)\n');
  assert.ok(e.diagnostics.some((d) => d.message.includes("Recursive variable 'X' references itself")));
  assert.ok(isUnknownWord(e.expand('$(Z)')));
});

test('foreach blow-up and length limits end with a diagnostic', () => {
  const e = ev(
    'L := 1 2 3 4 5 6 7 8 9 10\nX := $(foreach a,$(L),$(foreach b,$(L),$(foreach c,$(L),$(foreach d,$(L),$(foreach e,$(L),$(foreach f,$(L),x))))))\n',
    { limits: { maxSteps: 100_000 } },
  );
  assert.ok(isUnknownWord(e.expand('$(X)')));
  assert.ok(e.diagnostics.some((d) => /maxSteps/.test(d.message)));
  const g = ev(
    'A := xxxxxxxxxx\nA := $(A)$(A)$(A)$(A)\nA := $(A)$(A)$(A)$(A)\nA := $(A)$(A)$(A)$(A)\nA := $(A)$(A)$(A)$(A)\n',
    { limits: { maxExpansionLength: 1000 } },
  );
  assert.ok(g.diagnostics.some((d) => /maxExpansionLength/.test(d.message)));
});

test('eval defines variables and rules; error/warning/info are recorded, not thrown', () => {
  const e = ev(
    'define tmpl\n$(1)_obj := $(1).o\nendef\n$(foreach m,a b,$(eval $(call tmpl,$(m))))\n$(warning careful $(a_obj))\n$(info hi)\nifeq (1,0)\n$(error never)\nendif\n$(error stop here)\nAFTER := 1\n',
  );
  assert.equal(e.expand('$(a_obj) $(b_obj)'), 'a.o b.o');
  assert.deepEqual(
    e.messages.map((m) => `${m.kind}:${m.text}`),
    ['warning:careful a.o', 'info:hi', 'error:stop here'],
  );
  assert.ok(e.diagnostics.some((d) => d.severity === 'error' && /stop here/.test(d.message)));
  assert.equal(e.expand('$(AFTER)'), '1');
});

test('automatic variables come from extra', () => {
  const e = ev('cmd_x = $(CC) -o $@ $< $(@D) $(@F) $^\nCC := clang\n');
  assert.equal(
    e.expand('$(cmd_x)', { '@': 'out/dir/a.o', '<': 'a.c', '^': 'a.c b.h' }),
    'clang -o out/dir/a.o a.c out/dir a.o a.c b.h',
  );
  assert.ok(isUnknownWord(e.expand('$@')));
});

test('history and valueAt', () => {
  const mf = parseMakefile('X := 1\nX += 2\n\nX := $(filter-out 1,$(X))\n');
  const e = evaluateMakefile(mf);
  const h = e.variables.get('X')?.history ?? [];
  assert.deepEqual(
    h.map((r) => [r.stmt.span.start.line, r.valueBefore, r.valueAfter]),
    [
      [0, '', '1'],
      [1, '1', '1 2'],
      [3, '1 2', '2'],
    ],
  );
  assert.equal(e.valueAt('X', 0), undefined);
  assert.equal(e.valueAt('X', 1), '1');
  assert.equal(e.valueAt('X', 2), '1 2');
  assert.equal(e.valueAt('X', 3), '1 2');
  assert.equal(e.valueAt('X', 4), '2');
  assert.equal(e.liveness(mf.statements[0] as Statement), 'live');
});

function nvhe(version: string): { text: string } {
  const t = kernelTree(version);
  if (!('path' in t)) throw new Error(t.missing);
  return { text: readFileSync(join(t.path, 'arch/arm64/kvm/hyp/nvhe/Makefile'), 'utf8') };
}
const nvheInitial = {
  KBUILD_CFLAGS: '-O2 -fpatchable-function-entry=2 -fprofile-sample-use=/p/nvhe.prof -g -fsanitize=shadow-call-stack',
  CC_FLAGS_FTRACE: '-fpatchable-function-entry=2',
  CC_FLAGS_SCS: '-fsanitize=shadow-call-stack',
  obj: 'arch/arm64/kvm/hyp/nvhe',
  src: 'arch/arm64/kvm/hyp/nvhe',
};

test('Linux 6.1 nVHE Makefile: form A filters the profile flag', { skip: skipUnlessKernel('6.1') }, () => {
  const { text } = nvhe('6.1');
  const mf = parseMakefile(text);
  assert.equal(mf.diagnostics.length, 0);
  const e = evaluateMakefile(mf, { initial: nvheInitial });
  assert.deepEqual(splitWords(e.expand('$(KBUILD_CFLAGS)')), ['-O2', '-g']);
  const hist = e.variables.get('KBUILD_CFLAGS')?.history ?? [];
  assert.equal(hist.length, 2);
  assert.deepEqual(splitWords(hist[0].valueAfter), ['-O2', '-fprofile-sample-use=/p/nvhe.prof', '-g']);
  assert.equal(hist[1].stmt.kind === 'assignment' && hist[1].stmt.valueText.includes('-fprofile-sample-use=%'), true);
  // CC_FLAGS_CFI is not given: an unknown pattern is assumed not to match known words.
  const objs = splitWords(e.expand('$(hyp-obj)'));
  assert.equal(objs.length, 31);
  assert.ok(objs.includes('hyp-main.nvhe.o'));
  assert.ok(objs.includes('../../../lib/memset.nvhe.o'));
  assert.equal(
    e.expand('$(cmd_hyprel)', {
      '@': 'arch/arm64/kvm/hyp/nvhe/hyp-reloc.S',
      '<': 'arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o',
    }),
    'arch/arm64/kvm/hyp/nvhe/gen-hyprel arch/arm64/kvm/hyp/nvhe/kvm_nvhe.tmp.o > arch/arm64/kvm/hyp/nvhe/hyp-reloc.S',
  );
  assert.equal(e.expand('$(LDFLAGS_kvm_nvhe.tmp.o)'), '-r -T');
  assert.equal(e.diagnostics.length, 0);
});

test(
  'Linux 6.1 nVHE Makefile without the form-A line: the profile flag survives',
  { skip: skipUnlessKernel('6.1') },
  () => {
    const { text } = nvhe('6.1');
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.includes('-fprofile-sample-use=% -fprofile-use=%'));
    assert.ok(i > 0);
    lines.splice(i, 1);
    const e = evaluateMakefile(parseMakefile(lines.join('\n')), { initial: nvheInitial });
    assert.deepEqual(splitWords(e.expand('$(KBUILD_CFLAGS)')), ['-O2', '-fprofile-sample-use=/p/nvhe.prof', '-g']);
    assert.equal(e.variables.get('KBUILD_CFLAGS')?.history.length, 1);
  },
);

test('Linux 6.1 nVHE Makefile: the filter-out assignment statement is live', { skip: skipUnlessKernel('6.1') }, () => {
  const mf = parseMakefile(nvhe('6.1').text);
  const e = evaluateMakefile(mf);
  const s = mf.statements.find(
    (x): x is AssignmentStmt => x.kind === 'assignment' && x.valueText.includes('-fprofile-use=%'),
  );
  assert.ok(s);
  assert.equal(e.liveness(s), 'live');
  // KBUILD_CFLAGS comes from the top Makefile: unknown, but the filter still applies to known parts.
  assert.equal(displayValue(e.expand('$(KBUILD_CFLAGS)')), '⟨KBUILD_CFLAGS⟩');
});
