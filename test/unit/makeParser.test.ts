import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMakefile, walkStatements, exprToText } from '../../server/src/make/parser';
import type {
  AssignmentStmt,
  ConditionalStmt,
  DefineStmt,
  DirectiveStmt,
  Expr,
  ExpressionStmt,
  IncludeStmt,
  RuleStmt,
  Span,
  Statement,
} from '../../server/src/make/ast';

const sp = (l1: number, c1: number, l2: number, c2: number): Span => ({
  start: { line: l1, character: c1 },
  end: { line: l2, character: c2 },
});

function only<T extends Statement['kind']>(text: string, kind: T): Extract<Statement, { kind: T }> {
  const mf = parseMakefile(text);
  const s = mf.statements.filter((x) => x.kind !== 'comment');
  assert.equal(s.length, 1, `expected one statement, got ${JSON.stringify(s.map((x) => x.kind))}`);
  assert.equal(s[0].kind, kind);
  return s[0] as Extract<Statement, { kind: T }>;
}
function texts(e: Expr): string[] {
  return e.map((p) =>
    p.kind === 'text'
      ? `T:${p.text}`
      : p.kind === 'ref'
        ? `R:${exprToText(p.name)}`
        : p.kind === 'call'
          ? `C:${p.fn}/${p.args.length}`
          : `S:${exprToText(p.name)}`,
  );
}

test('every assignment operator, with exact spans', () => {
  for (const op of ['=', ':=', '::=', ':::=', '+=', '?=', '!='] as const) {
    const a = only(`FOO ${op} bar baz`, 'assignment');
    assert.equal(a.op, op);
    assert.equal(a.nameText, 'FOO');
    assert.equal(a.valueText, 'bar baz');
    assert.deepEqual(a.nameSpan, sp(0, 0, 0, 3));
    assert.deepEqual(a.opSpan, sp(0, 4, 0, 4 + op.length));
    assert.deepEqual(a.valueSpan, sp(0, 5 + op.length, 0, 12 + op.length));
  }
  const b = only('X:=y', 'assignment');
  assert.equal(b.op, ':=');
  assert.deepEqual(b.valueSpan, sp(0, 3, 0, 4));
});

test('modifiers: override / export / private, and names that look like directives', () => {
  const a = only('override export CFLAGS += -O2', 'assignment');
  assert.deepEqual(a.modifiers, ['override', 'export']);
  assert.equal(a.nameText, 'CFLAGS');
  assert.deepEqual(a.nameSpan, sp(0, 16, 0, 22));
  const b = only('private X = 1', 'assignment');
  assert.deepEqual(b.modifiers, ['private']);
  const c = only('export := 1', 'assignment');
  assert.equal(c.nameText, 'export');
  assert.deepEqual(c.modifiers, []);
  const d = only('ifdef = 2', 'assignment');
  assert.equal(d.nameText, 'ifdef');
});

test('computed names keep their references', () => {
  const a = only('obj-$(CONFIG_KVM) += kvm.o', 'assignment');
  assert.equal(a.nameText, 'obj-$(CONFIG_KVM)');
  assert.deepEqual(texts(a.name), ['T:obj-', 'R:CONFIG_KVM']);
  assert.deepEqual(a.name[1].span, sp(0, 4, 0, 17));
});

test('continuations: value joined with one space, spans point into the physical lines', () => {
  const text =
    'ccflags-y += -fno-stack-protector\t\\\n\t     -DDISABLE_BRANCH_PROFILING\t\\\n\t     $(DISABLE_STACKLEAK_PLUGIN)\n';
  const a = only(text, 'assignment');
  assert.equal(a.valueText, '-fno-stack-protector -DDISABLE_BRANCH_PROFILING $(DISABLE_STACKLEAK_PLUGIN)');
  assert.deepEqual(a.span, sp(0, 0, 2, 33));
  assert.deepEqual(a.valueSpan, sp(0, 13, 2, 33));
  const ref = a.value.find((p) => p.kind === 'ref');
  assert.ok(ref);
  assert.deepEqual(ref.span, sp(2, 6, 2, 33));
  const t0 = a.value[0];
  assert.equal(t0.kind, 'text');
  // "-DDISABLE..." starts on line 1 column 7
  const mf = parseMakefile(text);
  assert.equal(mf.lineCount, 4);
});

test('CRLF: positions do not count the CR, eol detected', () => {
  const mf = parseMakefile('A := 1\r\nB = x \\\r\n  y\r\n');
  assert.equal(mf.eol, 'crlf');
  const [a, b] = mf.statements as AssignmentStmt[];
  assert.deepEqual(a.span, sp(0, 0, 0, 6));
  assert.equal(b.valueText, 'x y');
  assert.deepEqual(b.valueSpan, sp(1, 4, 2, 3));
  assert.equal(parseMakefile('A=1\nB=2\n').eol, 'lf');
});

test('comments: trailing comment cut, \\# escape, # inside $(...) is not a comment', () => {
  const a = only('X := a b # comment', 'assignment');
  assert.equal(a.valueText, 'a b ');
  const b = only('X := a\\#b', 'assignment');
  assert.equal(b.valueText, 'a#b');
  assert.deepEqual(texts(b.value), ['T:a#b']);
  const c = only("X := $(shell echo '#')", 'assignment');
  assert.deepEqual(texts(c.value), ['C:shell/1']);
  const mf = parseMakefile('# one \\\n  still comment\nY = 1\n');
  assert.equal(mf.statements[0].kind, 'comment');
  assert.deepEqual(mf.statements[0].span, sp(0, 0, 1, 15));
  assert.equal(mf.statements[1].kind, 'assignment');
});

test('rules: targets, prerequisites, order-only, double colon, inline recipe with #', () => {
  const r = only('$(obj)/a.o b.o: a.c | dir ; echo "#x" # still recipe', 'rule');
  assert.equal(r.targetsText, '$(obj)/a.o b.o');
  assert.deepEqual(texts(r.prerequisites), ['T:a.c']);
  assert.ok(r.orderOnly);
  assert.deepEqual(texts(r.orderOnly), ['T:dir']);
  assert.equal(r.recipe.length, 1);
  assert.equal(r.recipe[0].raw, 'echo "#x" # still recipe');
  assert.deepEqual(r.recipe[0].span, sp(0, 28, 0, 52));
  const d = only('all:: x', 'rule');
  assert.equal(d.doubleColon, true);
  const sp2 = only('$(objs): %.o: %.c', 'rule');
  assert.ok(sp2.targetPattern);
  assert.deepEqual(texts(sp2.targetPattern), ['T:%.o']);
  assert.deepEqual(texts(sp2.prerequisites), ['T:%.c']);
});

test('tab recipe lines with continuations kept; comments and blank lines do not end the recipe', () => {
  const text = 'a: b\n\techo 1 \\\n\t  two\n\n# note\n\t# shell comment\n\techo $@\nX = 1\n\techo nope\n';
  const mf = parseMakefile(text);
  const r = mf.statements[0] as RuleStmt;
  assert.equal(r.kind, 'rule');
  assert.equal(r.recipe.length, 3);
  assert.equal(r.recipe[0].raw, 'echo 1 \\\n  two');
  assert.deepEqual(r.recipe[0].span, sp(1, 0, 2, 6));
  assert.equal(r.recipe[1].raw, '# shell comment');
  assert.deepEqual(texts(r.recipe[2].text), ['T:echo ', 'R:@']);
  assert.deepEqual(r.span, sp(0, 0, 6, 8));
  assert.equal(mf.statements[1].kind, 'assignment');
  // A tab line after an assignment is not a recipe: it is parsed as a make line and fails.
  assert.equal(mf.statements[2].kind, 'error');
  assert.match((mf.statements[2] as { message: string }).message, /before first target/);
});

test('recipe lines inside a conditional attach to the open rule', () => {
  const mf = parseMakefile('t:\nifdef V\n\techo a\nelse\n\techo b\nendif\n');
  const r = mf.statements[0] as RuleStmt;
  assert.equal(r.recipe.length, 2);
  assert.equal(mf.statements[1].kind, 'conditional');
});

test('target-specific assignments', () => {
  const a = only('$(obj)/x.o: CFLAGS_REMOVE += -pg', 'assignment');
  assert.equal(a.nameText, 'CFLAGS_REMOVE');
  assert.equal(a.op, '+=');
  assert.ok(a.targets);
  assert.deepEqual(texts(a.targets), ['R:obj', 'T:/x.o']);
  const b = only('t: private export V := 1', 'assignment');
  assert.deepEqual(b.modifiers, ['private', 'export']);
});

test('define/endef: nested define, define with operator, body span, unterminated', () => {
  const text = 'define cmd_x :=\n  echo $(1)\n  define inner\n  endef\nendef\nY = 2\n';
  const mf = parseMakefile(text);
  const d = mf.statements[0] as DefineStmt;
  assert.equal(d.kind, 'define');
  assert.equal(d.op, ':=');
  assert.equal(d.nameText, 'cmd_x');
  assert.equal(d.terminated, true);
  assert.equal(d.bodyText, '  echo $(1)\n  define inner\n  endef');
  assert.deepEqual(d.bodySpan, sp(1, 0, 3, 7));
  assert.deepEqual(d.span, sp(0, 0, 4, 5));
  assert.deepEqual(d.nameSpan, sp(0, 7, 0, 12));
  assert.equal(mf.statements[1].kind, 'assignment');
  const u = parseMakefile('define X\nbody\n');
  assert.equal((u.statements[0] as DefineStmt).terminated, false);
  assert.ok(u.diagnostics.some((x) => /endef/.test(x.message)));
  const o = parseMakefile('override define Z\nz\nendef\n').statements[0] as DefineStmt;
  assert.deepEqual(o.modifiers, ['override']);
});

test('conditionals: both syntaxes, ifdef/ifndef, else if chains, nesting, spans', () => {
  const text =
    'ifeq ($(A),y)\nX=1\nelse ifneq "$(B)" \'n\'\nX=2\nelse ifdef C\nifndef D\nX=3\nendif\nelse\nX=4\nendif # trailing comment\n';
  const mf = parseMakefile(text);
  assert.equal(mf.diagnostics.length, 0);
  const c = mf.statements[0] as ConditionalStmt;
  assert.equal(c.kind, 'conditional');
  assert.equal(c.branches.length, 4);
  assert.deepEqual(
    c.branches.map((b) => b.test?.kind ?? 'else'),
    ['ifeq', 'ifneq', 'ifdef', 'else'],
  );
  assert.deepEqual(texts(c.branches[0].test?.args[0] ?? []), ['R:A']);
  assert.deepEqual(texts(c.branches[0].test?.args[1] ?? []), ['T:y']);
  assert.deepEqual(texts(c.branches[1].test?.args[1] ?? []), ['T:n']);
  assert.deepEqual(c.span, sp(0, 0, 10, 24));
  assert.deepEqual(c.branches[0].span, sp(0, 0, 1, 3));
  assert.equal((c.branches[2].body[0] as ConditionalStmt).kind, 'conditional');
  const u = parseMakefile('ifdef X\nY=1\n');
  assert.equal((u.statements[0] as ConditionalStmt).terminated, false);
  assert.ok(u.diagnostics.some((d) => /endif/.test(d.message)));
  const stray = parseMakefile('endif\n');
  assert.equal(stray.statements[0].kind, 'error');
});

test('include variants, export/unexport/vpath/undefine directives', () => {
  const mf = parseMakefile(
    'include a.mk $(B)\n-include c\nsinclude d\nexport\nexport A B\nunexport C\nvpath %.c src\nundefine V\noverride undefine W\n',
  );
  const k = mf.statements.map((s) =>
    s.kind === 'include'
      ? `inc:${(s as IncludeStmt).optional}`
      : s.kind === 'directive'
        ? (s as DirectiveStmt).directive
        : s.kind,
  );
  assert.deepEqual(k, [
    'inc:false',
    'inc:true',
    'inc:true',
    'export',
    'export',
    'unexport',
    'vpath',
    'undefine',
    'undefine',
  ]);
  assert.deepEqual(texts((mf.statements[0] as IncludeStmt).files), ['T:a.mk ', 'R:B']);
});

test('expression statements, functions, substitution refs, $$ and $X', () => {
  const e = only('$(foreach t,$(T),$(eval $(call tmpl,$(t))))', 'expression') as ExpressionStmt;
  const call = e.expr[0];
  assert.equal(call.kind, 'call');
  assert.equal(call.fn, 'foreach');
  assert.equal(call.args.length, 3);
  const a = only('X = $(patsubst %.o,%.c,$(o)) $(v:.o=.c) $$HOME $@ ${y} $(info a,b) $(if a,b,c,d)', 'assignment');
  const parts = texts(a.value).filter((x) => x !== 'T: ');
  assert.deepEqual(parts, ['C:patsubst/3', 'S:v', 'T: $HOME ', 'R:@', 'R:y', 'C:info/1', 'C:if/3']);
  // $(info) with no space is a variable named info.
  assert.deepEqual(texts(only('X = $(info)', 'assignment').value), ['R:info']);
});

test('Kbuild .cmd file shape', () => {
  const text = [
    'savedcmd_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := clang -Wp,-MMD,x.d -fprofile-sample-use=/p.prof -c -o x.o x.c',
    '',
    'source_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := arch/arm64/kvm/hyp/nvhe/hyp-main.c',
    '',
    'deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := \\',
    '  include/linux/compiler-version.h \\',
    '    $(wildcard include/config/CC_VERSION_TEXT) \\',
    '  include/linux/kconfig.h \\',
    '',
    'arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o: $(deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o)',
    '',
    '$(deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o):',
    '',
  ].join('\n');
  const mf = parseMakefile(text);
  assert.equal(mf.diagnostics.length, 0);
  assert.deepEqual(
    mf.statements.map((s) => s.kind),
    ['assignment', 'assignment', 'assignment', 'rule', 'rule'],
  );
  const deps = mf.statements[2] as AssignmentStmt;
  assert.equal(deps.span.end.line, 8);
  assert.equal(
    deps.valueText.trim(),
    'include/linux/compiler-version.h $(wildcard include/config/CC_VERSION_TEXT) include/linux/kconfig.h',
  );
});

test('garbage lines become ErrorStmt with a diagnostic; every non-blank line is covered', () => {
  const text = 'A = 1\nthis is not make\n\tstray\nB: c\n';
  const mf = parseMakefile(text);
  const errs: Statement[] = [];
  walkStatements(mf.statements, (s) => {
    if (s.kind === 'error') errs.push(s);
  });
  assert.equal(errs.length, 2);
  assert.equal(mf.diagnostics.filter((d) => d.severity === 'error').length, 2);
  assert.deepEqual(errs[0].span, sp(1, 0, 1, 16));
});
