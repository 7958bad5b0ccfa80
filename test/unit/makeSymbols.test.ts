import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver-types';
import { parseMakefile } from '../../server/src/make/parser';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { documentSymbols } from '../../server/src/make/symbols';
import { hoverAt } from '../../server/src/make/hover';

const text = [
  'KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE), $(KBUILD_CFLAGS))', // 0
  'KBUILD_CFLAGS := $(filter-out -fprofile-sample-use=%, $(KBUILD_CFLAGS))', // 1
  'quiet_cmd_hyprel = HYPREL  $@', // 2
  '      cmd_hyprel = $(obj)/gen-hyprel $< > $@', // 3
  '$(obj)/hyp-reloc.S: $(obj)/kvm_nvhe.tmp.o FORCE', // 4
  '\t$(call if_changed,hyprel)', // 5
  'ifdef CONFIG_X', // 6
  'Y := 1', // 7
  'endif', // 8
  'define helper', // 9
  'x', // 10
  'endef', // 11
  '',
].join('\n');

function flat(s: DocumentSymbol[]): DocumentSymbol[] {
  return s.flatMap((x) => [x, ...flat(x.children ?? [])]);
}

test('documentSymbols: variables, cmd_* as functions, rules, define, conditional containers', () => {
  const syms = documentSymbols(parseMakefile(text));
  const all = flat(syms);
  assert.deepEqual(
    all.map((s) => `${s.kind}:${s.name}`),
    [
      `${SymbolKind.Variable}:KBUILD_CFLAGS`,
      `${SymbolKind.Variable}:KBUILD_CFLAGS`,
      `${SymbolKind.Function}:quiet_cmd_hyprel`,
      `${SymbolKind.Function}:cmd_hyprel`,
      `${SymbolKind.Method}:$(obj)/hyp-reloc.S`,
      `${SymbolKind.Namespace}:ifdef CONFIG_X`,
      `${SymbolKind.Variable}:Y`,
      `${SymbolKind.Function}:helper`,
    ],
  );
  const cmd = all[3];
  assert.deepEqual(cmd.selectionRange, { start: { line: 3, character: 6 }, end: { line: 3, character: 16 } });
  const rule = all[4];
  assert.deepEqual(rule.range, { start: { line: 4, character: 0 }, end: { line: 5, character: 26 } });
  assert.equal(syms.length, 7);
  assert.equal(syms[5].children?.length, 1);
});

test('hoverAt: on an assignment name shows where it is set, flavor and the value after that line', () => {
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf, { initial: { KBUILD_CFLAGS: '-O2 -fprofile-sample-use=/p -g' } });
  const h = hoverAt(mf, ev, { line: 1, character: 3 });
  assert.ok(h);
  assert.deepEqual(h.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 13 } });
  assert.match(h.markdown, /KBUILD_CFLAGS/);
  assert.match(h.markdown, /simple variable/);
  assert.match(h.markdown, /lines 1 \(`:=`\), 2 \(`:=`\)/);
  assert.match(h.markdown, /Value after this line: `-O2 -g`/);
  const h0 = hoverAt(mf, ev, { line: 0, character: 2 });
  assert.ok(h0);
  assert.match(h0.markdown, /Value after this line: `-O2 -fprofile-sample-use=\/p -g`/);
});

test('hoverAt: on a reference shows the value at that point with unknown parts as ⟨LABEL⟩', () => {
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf);
  const h = hoverAt(mf, ev, { line: 0, character: 35 });
  assert.ok(h);
  assert.deepEqual(h.range, { start: { line: 0, character: 30 }, end: { line: 0, character: 48 } });
  assert.match(h.markdown, /CC_FLAGS_FTRACE/);
  assert.match(h.markdown, /not set in this file/);
  assert.match(h.markdown, /⟨CC_FLAGS_FTRACE⟩/);
  const r = hoverAt(mf, ev, { line: 5, character: 10 });
  assert.ok(r);
  assert.match(r.markdown, /if_changed/);
  assert.equal(hoverAt(mf, ev, { line: 10, character: 0 }), null);
});
