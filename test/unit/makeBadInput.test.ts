import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMakefile, walkStatements } from '../../server/src/make/parser';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import type { DefineStmt } from '../../server/src/make/ast';

test('unterminated define: diagnostic, body to end of file', () => {
  const mf = parseMakefile('A := 1\ndefine X\nfoo\nbar');
  const d = mf.statements[1] as DefineStmt;
  assert.equal(d.kind, 'define');
  assert.equal(d.terminated, false);
  assert.equal(d.bodyText, 'foo\nbar');
  assert.deepEqual(d.span.end, { line: 3, character: 3 });
  assert.ok(mf.diagnostics.some((x) => x.severity === 'error' && /endef/.test(x.message)));
  evaluateMakefile(mf);
});

test('unbalanced parentheses: diagnostic, no crash, rest of line kept', () => {
  const mf = parseMakefile('X := $(filter-out a,$(B) c\nY := $(\nZ := ok\n');
  assert.ok(mf.diagnostics.some((d) => /Unterminated/.test(d.message)));
  assert.equal(mf.statements.length, 3);
  const e = evaluateMakefile(mf);
  assert.equal(e.expand('$(Z)'), 'ok');
  const deep = parseMakefile('X := ' + '$('.repeat(5000) + '\n');
  assert.ok(deep.diagnostics.length > 0);
});

test('NUL bytes and invalid UTF-8 (decoded with U+FFFD) give warnings, not crashes', () => {
  const bytes = Buffer.concat([
    Buffer.from('A := x\0y\nB := '),
    Buffer.from([0xff, 0xfe, 0xc3]),
    Buffer.from(' z\nC := 1\n'),
  ]);
  const text = new TextDecoder('utf-8').decode(bytes);
  const mf = parseMakefile(text);
  assert.ok(
    mf.diagnostics.some((d) => /NUL/.test(d.message) && d.span.start.line === 0 && d.span.start.character === 6),
  );
  assert.ok(mf.diagnostics.some((d) => /UTF-8/.test(d.message) && d.span.start.line === 1));
  assert.equal(mf.statements.filter((s) => s.kind === 'assignment').length, 3);
  assert.equal(evaluateMakefile(mf).expand('$(C)'), '1');
});

test('CRLF with continuations, conditionals and define', () => {
  const mf = parseMakefile('ifeq ($(A),)\r\nX := a \\\r\n  b\r\nendif\r\ndefine D\r\nline\r\nendef\r\n');
  assert.equal(mf.eol, 'crlf');
  assert.equal(mf.diagnostics.length, 0);
  const e = evaluateMakefile(mf, { undefinedIsEmpty: true });
  assert.equal(e.expand('$(X)'), 'a b');
  assert.equal(e.expand('$(D)'), 'line');
});

test('a 50 MB generated Makefile parses and evaluates (no timing assertion)', () => {
  const chunk = [
    'obj-$(CONFIG_FOO) += foo.o bar.o \\',
    '\tbaz.o',
    'ifeq ($(CONFIG_X),y)',
    'ccflags-y += -DX=1 # comment',
    'endif',
    '$(obj)/%.o: $(src)/%.c FORCE',
    '\t$(call if_changed_rule,cc_o_c)',
    'define cmd_x',
    '\techo $@',
    'endef',
    '',
  ].join('\n');
  const n = Math.ceil((50 * 1024 * 1024) / chunk.length);
  const text = chunk.repeat(n);
  assert.ok(text.length >= 50 * 1024 * 1024);
  const mf = parseMakefile(text);
  let count = 0;
  walkStatements(mf.statements, () => count++);
  assert.equal(count, n * 5);
  assert.equal(mf.diagnostics.length, 0);
  const e = evaluateMakefile(mf, { undefinedIsEmpty: true, limits: { maxExpansionLength: 100_000_000 } });
  assert.equal(e.variables.get('ccflags-y'), undefined);
  assert.equal(e.expand('$(words $(obj-))'), String(3 * n));
});

test('one enormous logical line with continuations', () => {
  const text = 'X := ' + 'a \\\n'.repeat(300_000) + 'z\n';
  const mf = parseMakefile(text);
  assert.equal(mf.statements.length, 1);
  const s = mf.statements[0];
  assert.equal(s.kind, 'assignment');
  assert.deepEqual(s.span.end, { line: 300_000, character: 1 });
  assert.equal(evaluateMakefile(mf).expand('$(words $(X))'), '300001');
});
