// Tokenizes Kbuild/Makefile text with the Kbuild TextMate grammar using the same engine as VS Code
// (vscode-textmate + vscode-oniguruma) and checks the scopes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { INITIAL, Registry, parseRawGrammar } from 'vscode-textmate';
import type { IGrammar, StateStack } from 'vscode-textmate';
import { loadWASM, OnigScanner, OnigString } from 'vscode-oniguruma';
import { kernelTree, root, skipUnlessKernel } from '../helpers/kernelTree';
import { cpuMsSince } from '../helpers/cpuTime';

const grammarPath = join(root, 'syntaxes', 'kbuild.tmLanguage.json');
const configPath = join(root, 'syntaxes', 'kbuild.language-configuration.json');

interface Tok {
  start: number;
  end: number;
  text: string;
  scopes: string[];
}
interface Line {
  text: string;
  tokens: Tok[];
}

let grammar: IGrammar;

before(async () => {
  // Resolved at run time from the repo root (the test runs bundled from out/test/unit/).
  const wasm = createRequire(join(root, 'package.json')).resolve('vscode-oniguruma/release/onig.wasm');
  await loadWASM(readFileSync(wasm));
  const registry = new Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new OnigScanner(patterns),
      createOnigString: (s: string) => new OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === 'source.kbuild' ? parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const g = await registry.loadGrammar('source.kbuild');
  assert.ok(g, 'grammar source.kbuild loads');
  grammar = g;
});

function tokenize(text: string): Line[] {
  let state: StateStack = INITIAL;
  const out: Line[] = [];
  for (const lineText of text.split('\n')) {
    const r = grammar.tokenizeLine(lineText, state);
    state = r.ruleStack;
    out.push({
      text: lineText,
      tokens: r.tokens.map((t) => ({
        start: t.startIndex,
        end: t.endIndex,
        text: lineText.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      })),
    });
  }
  return out;
}

/** The line whose text equals `line`, or starts with it when no line is equal. */
function findLine(lines: Line[], line: string): Line {
  const found = lines.find((l) => l.text === line) ?? lines.find((l) => l.text.startsWith(line));
  assert.ok(found, `no line ${JSON.stringify(line)}`);
  return found;
}

/** Tokens covering the `nth` occurrence of `needle` in the line. */
function tokensOf(line: Line, needle: string, nth = 0): Tok[] {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = line.text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `${JSON.stringify(needle)} (#${nth}) not in ${JSON.stringify(line.text)}`);
  }
  const end = at + needle.length;
  return line.tokens.filter((t) => t.start < end && t.end > at);
}

function describe(toks: Tok[]): string {
  return toks.map((t) => `${JSON.stringify(t.text)}: ${t.scopes.join(' ')}`).join('\n');
}

/** Every token covering `needle` carries `scope`; with `exact`, the needle is exactly one token. */
function expectScope(line: Line, needle: string, scope: string, opts: { nth?: number; exact?: boolean } = {}): void {
  const toks = tokensOf(line, needle, opts.nth ?? 0);
  assert.ok(
    toks.every((t) => t.scopes.includes(scope)),
    `${JSON.stringify(needle)} in ${JSON.stringify(line.text)} should be ${scope}, got\n${describe(toks)}`,
  );
  if (opts.exact)
    assert.equal(
      toks.length === 1 && toks[0]?.text,
      needle,
      `${JSON.stringify(needle)} should be one token, got\n${describe(toks)}`,
    );
}

function expectNoScope(line: Line, needle: string, scope: string, nth = 0): void {
  const toks = tokensOf(line, needle, nth);
  assert.ok(
    toks.every((t) => !t.scopes.some((s) => s === scope || s.startsWith(`${scope}.`))),
    `${JSON.stringify(needle)} in ${JSON.stringify(line.text)} should not be ${scope}, got\n${describe(toks)}`,
  );
}

const one = (text: string): Line => {
  const l = tokenize(text)[0];
  assert.ok(l);
  return l;
};

// ---------------------------------------------------------------------------------------------------------
// The grammar file itself

function collectScopes(node: unknown, out: Set<string>, includes: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) collectScopes(n, out, includes);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'name' || k === 'contentName') && typeof v === 'string') for (const s of v.split(' ')) out.add(s);
      else if (k === 'include' && typeof v === 'string') includes.add(v);
      else collectScopes(v, out, includes);
    }
  }
}

test('grammar: scopeName, every scope is a .kbuild scope, nothing external is included', () => {
  const raw: unknown = JSON.parse(readFileSync(grammarPath, 'utf8'));
  assert.ok(raw && typeof raw === 'object' && 'scopeName' in raw && 'repository' in raw && 'patterns' in raw);
  assert.equal(raw.scopeName, 'source.kbuild');
  const scopes = new Set<string>();
  const includes = new Set<string>();
  collectScopes(raw.patterns, scopes, includes);
  collectScopes(raw.repository, scopes, includes);
  assert.ok(scopes.size > 40, `only ${scopes.size} scopes`);
  for (const s of scopes)
    assert.ok(s.endsWith('.kbuild') || s.includes('.kbuild.'), `scope ${s} is not a .kbuild scope`);
  const repo = raw.repository as Record<string, unknown>;
  for (const inc of includes) {
    assert.ok(inc.startsWith('#') || inc === '$self', `external include ${inc}`);
    if (inc.startsWith('#')) assert.ok(inc.slice(1) in repo, `dangling include ${inc}`);
  }
});

test('manifest: kbuild does not claim plain Makefiles; configuration parses', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: {
      languages: { id: string; filenames?: string[]; filenamePatterns?: string[] }[];
      grammars: { scopeName: string; path: string }[];
    };
  };
  const lang = pkg.contributes.languages.find((l) => l.id === 'kbuild');
  assert.ok(lang);
  for (const f of [...(lang.filenames ?? []), ...(lang.filenamePatterns ?? [])]) assert.doesNotMatch(f, /makefile/i);
  assert.ok(
    pkg.contributes.grammars.some(
      (g) => g.scopeName === 'source.kbuild' && g.path === './syntaxes/kbuild.tmLanguage.json',
    ),
  );

  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    comments: { lineComment: string };
    brackets: [string, string][];
    folding: { markers: { start: string; end: string } };
    indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
    onEnterRules: { beforeText: string }[];
  };
  assert.equal(config.comments.lineComment, '#');
  assert.deepEqual(config.brackets, [
    ['(', ')'],
    ['{', '}'],
  ]);
  const start = new RegExp(config.folding.markers.start);
  const end = new RegExp(config.folding.markers.end);
  for (const s of [
    'ifeq ($(CONFIG_X),y)',
    'ifneq ($(a),)',
    'ifdef CONFIG_X',
    '  ifndef KBUILD_EXTMOD',
    'define rule_cc_o_c',
    'export define foo',
  ])
    assert.match(s, start);
  for (const s of ['endif', 'endef', '  endif # CONFIG_X']) assert.match(s, end);
  for (const s of ['obj-y += a.o', 'else', '\t$(call cmd,ld)']) assert.doesNotMatch(s, start);
  assert.match('define cmd_foo', new RegExp(config.indentationRules.increaseIndentPattern));
  assert.match('endef', new RegExp(config.indentationRules.decreaseIndentPattern));
  const ruleLine = new RegExp(config.onEnterRules[0]?.beforeText ?? '$^');
  assert.match('$(obj)/%.nvhe.o: $(src)/%.c FORCE', ruleLine);
  assert.doesNotMatch('lib-objs := clear_page.o', ruleLine);
  assert.doesNotMatch('foo: CFLAGS += -O2', ruleLine);
});

// ---------------------------------------------------------------------------------------------------------
// The real arch/arm64/kvm/hyp/nvhe/Makefile of Linux 6.1

test('linux 6.1 arch/arm64/kvm/hyp/nvhe/Makefile', { skip: skipUnlessKernel('6.1') }, () => {
  const tree = kernelTree('6.1');
  assert.ok('path' in tree);
  const lines = tokenize(readFileSync(join(tree.path, 'arch/arm64/kvm/hyp/nvhe/Makefile'), 'utf8'));
  const L = (s: string): Line => findLine(lines, s);

  expectScope(L('# SPDX-License-Identifier'), '#', 'punctuation.definition.comment.kbuild', { exact: true });
  expectScope(L('# SPDX-License-Identifier'), 'GPL-2.0', 'comment.line.number-sign.kbuild');

  const asflags = L('asflags-y :=');
  expectScope(asflags, 'asflags-y', 'variable.other.kbuild.flags', { exact: true });
  expectScope(asflags, ':=', 'keyword.operator.assignment.kbuild', { exact: true });
  expectScope(asflags, '-D__KVM_NVHE_HYPERVISOR__', 'meta.scope.assignment.kbuild');

  // ccflags-y += … \ with two continuation lines
  const cc = lines.findIndex((l) => l.text.startsWith('ccflags-y += -fno-stack-protector'));
  const [c0, c1, c2] = [lines[cc], lines[cc + 1], lines[cc + 2]];
  assert.ok(c0 && c1 && c2);
  expectScope(c0, '+=', 'keyword.operator.assignment.kbuild', { exact: true });
  expectScope(c0, '\\', 'constant.character.escape.continuation.kbuild', { exact: true });
  expectScope(c1, '-DDISABLE_BRANCH_PROFILING', 'meta.scope.assignment.kbuild');
  expectNoScope(c1, '-DDISABLE_BRANCH_PROFILING', 'meta.scope.recipe.kbuild');
  expectScope(c2, 'DISABLE_STACKLEAK_PLUGIN', 'variable.other.kbuild', { exact: true });
  expectScope(c2, '$(', 'punctuation.definition.variable.begin.kbuild', { exact: true });
  expectScope(c2, 'DISABLE_STACKLEAK_PLUGIN', 'meta.scope.assignment.kbuild');

  expectScope(L('hostprogs := gen-hyprel'), 'hostprogs', 'variable.other.kbuild.special', { exact: true });
  const hostx = L('HOST_EXTRACFLAGS += -I$(objtree)/include');
  expectScope(hostx, 'HOST_EXTRACFLAGS', 'variable.other.kbuild.flags', { exact: true });
  expectScope(hostx, 'objtree', 'variable.language.kbuild.directory', { exact: true });

  const libObjs = L('lib-objs := $(addprefix');
  expectScope(libObjs, 'lib-objs', 'variable.other.kbuild.goal', { exact: true });
  expectScope(libObjs, 'addprefix', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(libObjs, 'lib-objs', 'variable.other.kbuild.goal', { nth: 1, exact: true });
  expectScope(libObjs, ',', 'punctuation.separator.comma.kbuild', { exact: true });
  expectScope(libObjs, ')', 'punctuation.definition.variable.end.kbuild', { nth: 0, exact: true });
  expectScope(libObjs, ')', 'punctuation.section.function.end.kbuild', { nth: 1, exact: true });

  const hyp = L('hyp-obj-y := timer-sr.o');
  expectScope(hyp, 'hyp-obj-y', 'variable.other.kbuild.goal', { exact: true });
  const hypNext = lines[lines.indexOf(hyp) + 1];
  assert.ok(hypNext);
  expectScope(hypNext, 'hyp-main.o', 'meta.scope.assignment.kbuild');
  expectNoScope(hypNext, 'hyp-main.o', 'meta.scope.recipe.kbuild');

  const debugList = L('hyp-obj-$(CONFIG_DEBUG_LIST) += list_debug.o');
  expectScope(debugList, 'hyp-obj-', 'variable.other.kbuild.goal', { exact: true });
  expectScope(debugList, 'CONFIG_DEBUG_LIST', 'constant.other.config.kbuild', { exact: true });
  expectScope(debugList, '+=', 'keyword.operator.assignment.kbuild', { exact: true });

  const patsubst = L('hyp-obj := $(patsubst %.o,%.nvhe.o,$(hyp-obj-y))');
  expectScope(patsubst, 'hyp-obj', 'variable.other.kbuild', { exact: true });
  expectScope(patsubst, 'patsubst', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(patsubst, 'hyp-obj-y', 'variable.other.kbuild.goal', { exact: true });
  expectScope(patsubst, 'hyp-obj-y', 'meta.function-call.kbuild');

  expectScope(L('obj-y := kvm_nvhe.o'), 'obj-y', 'variable.other.kbuild.goal', { exact: true });
  expectScope(L('targets += $(hyp-obj)'), 'targets', 'variable.other.kbuild.special', { exact: true });

  // Rules and recipes
  const rule = L('$(obj)/%.nvhe.o: $(src)/%.c FORCE');
  expectScope(rule, '$(obj)/%.nvhe.o', 'entity.name.function.target.kbuild');
  expectScope(rule, 'obj', 'variable.language.kbuild.directory', { exact: true });
  expectScope(rule, '%', 'constant.other.placeholder.kbuild', { exact: true });
  expectScope(rule, ':', 'punctuation.separator.rule.kbuild', { exact: true });
  expectScope(rule, 'src', 'variable.language.kbuild.directory', { exact: true });
  expectScope(rule, 'src', 'meta.scope.prerequisites.kbuild');
  expectScope(rule, 'FORCE', 'support.constant.kbuild.force', { exact: true });
  const recipe = lines[lines.indexOf(rule) + 1];
  assert.ok(recipe);
  assert.equal(recipe.text, '\t$(call if_changed_rule,cc_o_c)');
  expectScope(recipe, '$(call if_changed_rule,cc_o_c)', 'meta.scope.recipe.kbuild');
  expectScope(recipe, 'call', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(recipe, 'if_changed_rule', 'support.function.kbuild', { exact: true });
  expectScope(recipe, 'cc_o_c', 'entity.name.function.kbuild.rule', { exact: true });

  expectScope(L('\t$(call if_changed_dep,cpp_lds_S)'), 'if_changed_dep', 'support.function.kbuild', { exact: true });
  expectScope(L('\t$(call if_changed_dep,cpp_lds_S)'), 'cpp_lds_S', 'entity.name.function.kbuild.cmd', { exact: true });
  expectScope(L('\t$(call if_changed,ld)'), 'ld', 'entity.name.function.kbuild.cmd', { exact: true });
  expectScope(L('\t$(call if_changed,hyprel)'), 'hyprel', 'entity.name.function.kbuild.cmd', { exact: true });

  const ldflags = L('LDFLAGS_kvm_nvhe.tmp.o := -r -T');
  expectScope(ldflags, 'LDFLAGS_kvm_nvhe.tmp.o', 'variable.other.kbuild.flags.target', { exact: true });
  expectNoScope(ldflags, 'LDFLAGS_kvm_nvhe.tmp.o', 'meta.scope.rule.kbuild');
  const link = L('$(obj)/kvm_nvhe.tmp.o: $(obj)/hyp.lds $(addprefix $(obj)/,$(hyp-obj)) FORCE');
  expectScope(link, 'addprefix', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(link, 'FORCE', 'support.constant.kbuild.force', { exact: true });

  const quiet = L('quiet_cmd_hyprel = HYPREL  $@');
  expectScope(quiet, 'quiet_cmd_hyprel', 'entity.name.function.kbuild.cmd.quiet', { exact: true });
  expectScope(quiet, '@', 'variable.language.automatic.kbuild', { exact: true });
  const cmd = L('      cmd_hyprel = $(obj)/gen-hyprel $< > $@');
  expectScope(cmd, 'cmd_hyprel', 'entity.name.function.kbuild.cmd', { exact: true });
  expectNoScope(cmd, 'cmd_hyprel', 'meta.scope.recipe.kbuild');
  expectScope(cmd, '<', 'variable.language.automatic.kbuild', { exact: true });
  expectScope(L('      cmd_hypcopy = $(OBJCOPY)'), 'OBJCOPY', 'support.variable.kbuild.tool', { exact: true });

  const kcflags = L('KBUILD_CFLAGS := $(filter-out $(CC_FLAGS_FTRACE)');
  expectScope(kcflags, 'KBUILD_CFLAGS', 'variable.language.kbuild.kbuild-var', { exact: true });
  expectScope(kcflags, 'filter-out', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(kcflags, 'CC_FLAGS_FTRACE', 'variable.other.kbuild', { exact: true });
  expectScope(kcflags, 'KBUILD_CFLAGS', 'variable.language.kbuild.kbuild-var', { nth: 1, exact: true });

  expectScope(L('GCOV_PROFILE\t:= n'), 'GCOV_PROFILE', 'variable.other.kbuild.toggle', { exact: true });
  expectScope(L('OBJECT_FILES_NON_STANDARD := y'), 'OBJECT_FILES_NON_STANDARD', 'variable.other.kbuild.toggle', {
    exact: true,
  });

  // Comment lines between rules do not leak scopes, and nothing is left open at the end of the file.
  for (const l of lines) {
    if (l.text.startsWith('#'))
      assert.ok(
        l.tokens.every((t) => t.scopes.includes('comment.line.number-sign.kbuild') || t.text === ''),
        l.text,
      );
  }
});

// ---------------------------------------------------------------------------------------------------------
// The shape of a Kbuild .cmd file (scripts/basic/fixdep output)

const CMD_FILE = [
  'savedcmd_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := clang -Wp,-MMD,arch/arm64/kvm/hyp/nvhe/.hyp-main.nvhe.o.d -nostdinc -I./arch/arm64/include -include ./include/linux/kconfig.h -D__KVM_NVHE_HYPERVISOR__ -fprofile-sample-use=/tmp/p.prof -DKBUILD_MODFILE=\'"arch/arm64/kvm/hyp/nvhe/hyp-main"\' -DKBUILD_BASENAME=\'"hyp_main"\' -c -o arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o arch/arm64/kvm/hyp/nvhe/hyp-main.c',
  '',
  'source_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := arch/arm64/kvm/hyp/nvhe/hyp-main.c',
  '',
  'deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o := \\',
  '  include/linux/compiler-version.h \\',
  '    $(wildcard include/config/CC_VERSION_TEXT) \\',
  '  include/linux/kconfig.h \\',
  '    $(wildcard include/config/CPU_BIG_ENDIAN) \\',
  '',
  'arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o: $(deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o)',
  '',
  '$(deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o):',
  '',
].join('\n');

test('.cmd file: savedcmd_/source_/deps_ definitions, deps continuation list, the dependency rules', () => {
  const lines = tokenize(CMD_FILE);
  const saved = findLine(lines, 'savedcmd_');
  expectScope(saved, 'savedcmd_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'entity.name.function.kbuild.cmd.saved', {
    exact: true,
  });
  expectScope(saved, ':=', 'keyword.operator.assignment.kbuild', { exact: true });
  expectScope(saved, 'clang', 'meta.scope.assignment.kbuild');
  expectScope(saved, 'hyp-main.c', 'meta.scope.assignment.kbuild');
  expectNoScope(saved, 'hyp-main.c', 'meta.scope.rule.kbuild');
  expectNoScope(saved, '-fprofile-sample-use=/tmp/p.prof', 'keyword.operator.assignment.kbuild');

  const source = findLine(lines, 'source_');
  expectScope(source, 'source_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'variable.other.kbuild.source', {
    exact: true,
  });

  const d = lines.findIndex((l) => l.text.startsWith('deps_'));
  const deps = lines.slice(d, d + 6);
  const [d0, d1, d2, d3, d4, d5] = deps;
  assert.ok(d0 && d1 && d2 && d3 && d4 && d5);
  expectScope(d0, 'deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'variable.other.kbuild.deps', { exact: true });
  for (const l of [d0, d1, d2, d3, d4])
    expectScope(l, '\\', 'constant.character.escape.continuation.kbuild', { exact: true });
  expectScope(d1, 'include/linux/compiler-version.h', 'meta.scope.assignment.kbuild');
  expectScope(d2, 'wildcard', 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(d2, 'include/config/CC_VERSION_TEXT', 'meta.function-call.kbuild');
  expectScope(d4, 'CPU_BIG_ENDIAN', 'meta.scope.assignment.kbuild');
  assert.deepEqual(
    d5.tokens.flatMap((t) => t.scopes),
    ['source.kbuild'],
    'the blank line after the list is back at the top level',
  );

  const rule = findLine(lines, 'arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o:');
  expectScope(rule, 'arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'entity.name.function.target.kbuild', { exact: true });
  expectScope(rule, 'deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'variable.other.kbuild.deps', { exact: true });
  expectScope(rule, 'deps_arch', 'meta.scope.prerequisites.kbuild');
  const empty = findLine(lines, '$(deps_arch');
  expectScope(empty, 'deps_arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o', 'variable.other.kbuild.deps', { exact: true });
  expectScope(empty, 'deps_arch', 'entity.name.function.target.kbuild');
  expectScope(empty, ':', 'punctuation.separator.rule.kbuild', { exact: true });
});

// ---------------------------------------------------------------------------------------------------------
// make constructs

test('assignments: every operator, override/export/private prefixes, no spaces', () => {
  for (const op of ['=', ':=', '::=', ':::=', '+=', '?=', '!=']) {
    for (const sep of [' ', '']) {
      const l = one(`FOO${sep}${op}${sep}bar`);
      expectScope(l, 'FOO', 'variable.other.kbuild', { exact: true });
      expectScope(l, op, 'keyword.operator.assignment.kbuild', { exact: true });
      expectScope(l, 'bar', 'meta.scope.assignment.kbuild');
      expectNoScope(l, 'FOO', 'entity.name.function.target.kbuild');
    }
  }
  const ov = one('override export KBUILD_CFLAGS += -O2');
  expectScope(ov, 'override', 'storage.modifier.kbuild', { exact: true });
  expectScope(ov, 'export', 'storage.modifier.kbuild', { exact: true });
  expectScope(ov, 'KBUILD_CFLAGS', 'variable.language.kbuild.kbuild-var', { exact: true });
  expectScope(ov, '+=', 'keyword.operator.assignment.kbuild', { exact: true });
  const ex = one('export KBUILD_CFLAGS KBUILD_AFLAGS');
  expectScope(ex, 'export', 'keyword.control.directive.kbuild', { exact: true });
  expectScope(ex, 'KBUILD_AFLAGS', 'variable.language.kbuild.kbuild-var', { exact: true });
  expectScope(one('unexport GREP_OPTIONS'), 'unexport', 'keyword.control.directive.kbuild', { exact: true });
  expectScope(one('obj-y+=foo.o'), 'obj-y', 'variable.other.kbuild.goal', { exact: true });
  expectScope(one('obj-y+=foo.o'), '+=', 'keyword.operator.assignment.kbuild', { exact: true });
  expectScope(one('x := a:b # trailing: comment'), 'trailing: comment', 'comment.line.number-sign.kbuild');
  expectNoScope(one('x := a:b'), ':', 'punctuation.separator.rule.kbuild', 1);
  // A trailing comment ends with its line and does not swallow the next one.
  const [c0, c1] = tokenize('LDFLAGS_vmlinux\t:= -static -N #-relax\nCHECKFLAGS\t+= -D__alpha__');
  assert.ok(c0 && c1);
  expectScope(c0, '#-relax', 'comment.line.number-sign.kbuild');
  expectScope(c1, 'CHECKFLAGS', 'variable.other.kbuild', { exact: true });
  expectNoScope(c1, 'CHECKFLAGS', 'comment.line.number-sign.kbuild');
});

test('Kbuild variable classes', () => {
  const cases: [string, string, string][] = [
    ['obj-m += kvm.o', 'obj-m', 'variable.other.kbuild.goal'],
    ['obj-$(CONFIG_KVM) += kvm/', 'obj-', 'variable.other.kbuild.goal'],
    ['lib-y := delay.o', 'lib-y', 'variable.other.kbuild.goal'],
    ['kvm-objs := main.o', 'kvm-objs', 'variable.other.kbuild.goal'],
    ['kvm-y += arm.o', 'kvm-y', 'variable.other.kbuild.goal'],
    ['kvm-$(CONFIG_HW_PERF_EVENTS) += pmu.o', 'kvm-', 'variable.other.kbuild.goal'],
    ['ccflags-y += -I$(srctree)/$(src)', 'ccflags-y', 'variable.other.kbuild.flags'],
    ['asflags-y := -DX', 'asflags-y', 'variable.other.kbuild.flags'],
    ['ldflags-y += -T $(obj)/x.lds', 'ldflags-y', 'variable.other.kbuild.flags'],
    ['subdir-ccflags-y += -Werror', 'subdir-ccflags-y', 'variable.other.kbuild.flags'],
    ['ccflags-remove-y += $(CC_FLAGS_FTRACE)', 'ccflags-remove-y', 'variable.other.kbuild.flags'],
    ['ccflags-$(CONFIG_X) += -DX', 'ccflags-', 'variable.other.kbuild.flags'],
    ['CFLAGS_foo.o := -DBAR', 'CFLAGS_foo.o', 'variable.other.kbuild.flags.target'],
    ['CFLAGS_REMOVE_foo.o = $(CC_FLAGS_FTRACE)', 'CFLAGS_REMOVE_foo.o', 'variable.other.kbuild.flags.target'],
    ['AFLAGS_head.o += -DX', 'AFLAGS_head.o', 'variable.other.kbuild.flags.target'],
    ['AFLAGS_REMOVE_entry.o += -DX', 'AFLAGS_REMOVE_entry.o', 'variable.other.kbuild.flags.target'],
    ['LDFLAGS_vmlinux += -pie', 'LDFLAGS_vmlinux', 'variable.other.kbuild.flags.target'],
    ['KBUILD_AFLAGS += -D__ASSEMBLY__', 'KBUILD_AFLAGS', 'variable.language.kbuild.kbuild-var'],
    ['always-y += vmlinux.lds', 'always-y', 'variable.other.kbuild.special'],
    ['always-$(CONFIG_X) += x', 'always-', 'variable.other.kbuild.special'],
    ['extra-y += head.o', 'extra-y', 'variable.other.kbuild.special'],
    ['hostprogs-always-y += gen', 'hostprogs-always-y', 'variable.other.kbuild.special'],
    ['clean-files := *.o', 'clean-files', 'variable.other.kbuild.special'],
    ['targets += foo.o', 'targets', 'variable.other.kbuild.special'],
    ['subdir-y += basic', 'subdir-y', 'variable.other.kbuild.special'],
    ['KASAN_SANITIZE_foo.o := n', 'KASAN_SANITIZE_foo.o', 'variable.other.kbuild.toggle'],
    ['cmd_ld = $(LD) $(ld_flags) -o $@ $<', 'cmd_ld', 'entity.name.function.kbuild.cmd'],
    ['quiet_cmd_ld = LD      $@', 'quiet_cmd_ld', 'entity.name.function.kbuild.cmd.quiet'],
    ['savedcmd_vmlinux.o := ld -r', 'savedcmd_vmlinux.o', 'entity.name.function.kbuild.cmd.saved'],
    ['deps_foo.o := \\', 'deps_foo.o', 'variable.other.kbuild.deps'],
    ['source_foo.o := foo.c', 'source_foo.o', 'variable.other.kbuild.source'],
    ['rule_cc_o_c = x', 'rule_cc_o_c', 'entity.name.function.kbuild.rule'],
    ['filechk_version = echo 1', 'filechk_version', 'entity.name.function.kbuild.filechk'],
    ['x := $(srctree)/$(src)', 'srctree', 'variable.language.kbuild.directory'],
    ['x := $(obj)/$(objtree)', 'obj', 'variable.language.kbuild.directory'],
    ['x := $(CONFIG_ARM64_VA_BITS)', 'CONFIG_ARM64_VA_BITS', 'constant.other.config.kbuild'],
    ['x := ${KBUILD_CFLAGS}', 'KBUILD_CFLAGS', 'variable.language.kbuild.kbuild-var'],
    ['x := $(Q)', 'Q', 'support.variable.kbuild'],
    ['PHONY += FORCE', 'FORCE', 'support.constant.kbuild.force'],
  ];
  for (const [text, needle, scope] of cases) expectScope(one(text), needle, scope, { exact: true });
  // Not everything ending in -y is a goal list: flags and special lists win; prefixes do not count.
  expectNoScope(one('ccflags-y += -DX'), 'ccflags-y', 'variable.other.kbuild.goal');
  expectNoScope(one('always-y += x'), 'always-y', 'variable.other.kbuild.goal');
  expectNoScope(one('x := -DFORCE_X -DCONFIG_X'), 'FORCE_X', 'support.constant.kbuild.force');
  expectNoScope(one('x := -DFORCE_X -DCONFIG_X'), 'CONFIG_X', 'constant.other.config.kbuild');
  expectScope(one('objtree-ish := 1'), 'objtree-ish', 'variable.other.kbuild', { exact: true });
});

test('Kbuild macro calls', () => {
  const l = one(
    'ccflags-y += $(call cc-option,-mno-outline-atomics) $(call cc-disable-warning, unused-but-set-variable)',
  );
  expectScope(l, 'cc-option', 'support.function.kbuild', { exact: true });
  expectScope(l, '-mno-outline-atomics', 'meta.function-call.kbuild.macro');
  expectScope(l, 'cc-disable-warning', 'support.function.kbuild', { exact: true });
  expectScope(
    one('LDFLAGS_vmlinux += $(call ld-option, --no-apply-dynamic-relocs)'),
    'ld-option',
    'support.function.kbuild',
    { exact: true },
  );
  expectScope(one('x := $(call as-instr,.arch_extension rcpc,-DHAS)'), 'as-instr', 'support.function.kbuild', {
    exact: true,
  });
  const cmd = one('\t$(call cmd,objcopy)');
  expectScope(cmd, 'cmd', 'support.function.kbuild', { exact: true });
  expectScope(cmd, 'objcopy', 'entity.name.function.kbuild.cmd', { exact: true });
  const fix = one('\t$(call cmd_and_fixdep,cc_o_c)');
  expectScope(fix, 'cmd_and_fixdep', 'support.function.kbuild', { exact: true });
  expectScope(fix, 'cc_o_c', 'entity.name.function.kbuild.cmd', { exact: true });
  const fc = one('\t$(call filechk,version)');
  expectScope(fc, 'version', 'entity.name.function.kbuild.filechk', { exact: true });
  const user = one('x := $(call my_helper,a,b)');
  expectScope(user, 'my_helper', 'variable.function.kbuild', { exact: true });
  expectScope(user, 'call', 'support.function.builtin.make.kbuild', { exact: true });
  const brace = one('x := ${call if_changed,ld}');
  expectScope(brace, 'if_changed', 'support.function.kbuild', { exact: true });
  expectScope(brace, 'ld', 'entity.name.function.kbuild.cmd', { exact: true });
  expectScope(brace, '}', 'punctuation.section.function.end.kbuild', { exact: true });
  // A dynamic command name is a reference, not a cmd name.
  const dyn = one('\t$(call if_changed,$(cmd-name))');
  expectScope(dyn, 'cmd-name', 'variable.other.kbuild', { exact: true });
});

test('variable references: $(x) ${x} $X $$ automatic, substitution refs, deep nesting', () => {
  const l = one('x := $(a) ${b} $c $$d $@ $(@D) $(<F) $(1) $2 $(SRCS:%.c=%.o)');
  expectScope(l, '$(', 'punctuation.definition.variable.begin.kbuild', { exact: true });
  expectScope(l, 'a', 'variable.other.kbuild', { nth: 0, exact: true });
  expectScope(l, '${', 'punctuation.definition.variable.begin.kbuild', { exact: true });
  expectScope(l, 'b', 'variable.other.kbuild', { exact: true });
  expectScope(l, '}', 'punctuation.definition.variable.end.kbuild', { exact: true });
  expectScope(l, 'c', 'variable.other.kbuild', { nth: 0, exact: true });
  expectScope(l, '$$', 'constant.character.escape.dollar.kbuild', { exact: true });
  expectNoScope(l, 'd', 'variable.other.kbuild', 0);
  expectScope(l, '@', 'variable.language.automatic.kbuild', { exact: true });
  expectScope(l, '@D', 'variable.language.automatic.kbuild', { exact: true });
  expectScope(l, '<F', 'variable.language.automatic.kbuild', { exact: true });
  expectScope(l, '1', 'variable.parameter.kbuild', { exact: true });
  expectScope(l, '2', 'variable.parameter.kbuild', { exact: true });
  expectScope(l, 'SRCS', 'variable.other.kbuild', { exact: true });
  expectScope(l, ':', 'keyword.operator.substitution.kbuild', { nth: 1, exact: true });
  expectScope(l, '=', 'keyword.operator.substitution.kbuild', { nth: 1, exact: true });

  const deep = one(
    'x := $(call f,$(patsubst %.o,%.c,$(filter-out $(obj-n),$(foreach d,$(dirs),$(if $(CONFIG_$(d)),$(d)/)))))) # done',
  );
  for (const fn of ['call', 'patsubst', 'filter-out', 'foreach', 'if'])
    expectScope(deep, fn, 'support.function.builtin.make.kbuild', { exact: true });
  expectScope(deep, 'obj-n', 'variable.other.kbuild.goal', { exact: true });
  expectScope(deep, 'CONFIG_', 'constant.other.config.kbuild', { exact: true });
  expectScope(deep, 'done', 'comment.line.number-sign.kbuild');
  expectNoScope(deep, 'done', 'meta.function-call.kbuild');
  // Literal parentheses inside a function nest like make counts them.
  const paren = one('x := $(if $(y),(a),b) tail');
  expectScope(paren, 'tail', 'meta.scope.assignment.kbuild');
  expectNoScope(paren, 'tail', 'meta.function-call.kbuild');
  // An unclosed $( does not leak into the next line.
  const [u0, u1] = tokenize('x := $(foo\nobj-y += a.o');
  assert.ok(u0 && u1);
  expectScope(u1, 'obj-y', 'variable.other.kbuild.goal', { exact: true });
  expectNoScope(u1, 'obj-y', 'meta.variable-reference.kbuild');
});

test('continuation lines: assignment, comment, function call across lines, recipe', () => {
  const lines = tokenize(
    [
      '# a comment \\',
      'still comment',
      'obj-y := $(foreach x,$(y), \\',
      '\t$(x)-a.o) \\',
      '\tb.o',
      'after := 1',
      'all: a \\',
      '     b',
      '\techo $@ \\',
      '\t  && echo $$HOME',
      '\techo done',
      'z = 1',
    ].join('\n'),
  );
  const at = (i: number): Line => {
    const l = lines[i];
    assert.ok(l);
    return l;
  };
  expectScope(at(1), 'still comment', 'comment.line.number-sign.kbuild');
  expectScope(at(3), 'x', 'variable.other.kbuild', { exact: true });
  expectScope(at(3), 'x', 'meta.function-call.kbuild');
  expectScope(at(3), ')', 'punctuation.section.function.end.kbuild', { nth: 1 });
  expectScope(at(4), 'b.o', 'meta.scope.assignment.kbuild');
  expectNoScope(at(4), 'b.o', 'meta.function-call.kbuild');
  expectScope(at(5), 'after', 'variable.other.kbuild', { exact: true });
  expectNoScope(at(5), 'after', 'meta.scope.assignment.kbuild.x');
  expectScope(at(7), 'b', 'meta.scope.prerequisites.kbuild');
  expectScope(at(8), 'echo', 'meta.scope.recipe.kbuild');
  expectScope(at(9), '&& echo', 'meta.scope.recipe.kbuild');
  expectScope(at(9), '$$HOME', 'variable.other.shell.kbuild', { exact: true });
  expectScope(at(10), 'echo done', 'meta.scope.recipe.kbuild');
  expectScope(at(11), 'z', 'variable.other.kbuild', { exact: true });
  expectNoScope(at(11), 'z', 'meta.scope.rule.kbuild');
});

test('rules and recipes: prefixes, blank and comment lines, target-specific variables, order-only, special targets', () => {
  const lines = tokenize(
    [
      '.PHONY: all clean',
      '$(obj)/%.o: $(src)/%.c | $(obj)/dir FORCE',
      '\t@echo "  CC $@"',
      '',
      '# a comment inside the recipe block',
      '\t-$(Q)rm -f $@',
      '\t+$(MAKE) -C x',
      'ifdef CONFIG_X',
      '\t$(call cmd,x)',
      'endif',
      'foo.o: CFLAGS += -O2',
      '%.s: %.c ; $(CC) -S $<',
      'a b &: c',
      'ifeq ($(x),y)',
      '\tobj-y += top.o',
      'endif',
    ].join('\n'),
  );
  const at = (i: number): Line => {
    const l = lines[i];
    assert.ok(l);
    return l;
  };
  expectScope(at(0), '.PHONY', 'support.function.target.special.kbuild', { exact: true });
  expectScope(at(1), '|', 'keyword.operator.order-only.kbuild', { exact: true });
  expectScope(at(2), '@', 'keyword.operator.recipe-prefix.kbuild', { exact: true });
  expectScope(at(2), 'echo', 'meta.scope.recipe.kbuild');
  expectScope(at(2), '@', 'variable.language.automatic.kbuild', { nth: 1, exact: true });
  expectScope(at(4), 'a comment', 'comment.line.number-sign.kbuild');
  expectScope(at(5), '-', 'keyword.operator.recipe-prefix.kbuild', { exact: true });
  expectScope(at(5), 'Q', 'support.variable.kbuild', { exact: true });
  expectScope(at(5), 'rm -f', 'meta.scope.recipe.kbuild');
  expectScope(at(6), '+', 'keyword.operator.recipe-prefix.kbuild', { exact: true });
  expectScope(at(6), 'MAKE', 'support.variable.kbuild', { exact: true });
  expectScope(at(7), 'ifdef', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(at(8), 'x', 'meta.scope.recipe.kbuild', { nth: 0 });
  expectScope(at(9), 'endif', 'keyword.control.conditional.kbuild', { exact: true });
  const tsv = at(10);
  expectScope(tsv, 'foo.o', 'entity.name.function.target.kbuild', { exact: true });
  expectScope(tsv, 'CFLAGS', 'meta.scope.target-variable.kbuild');
  expectScope(tsv, '+=', 'keyword.operator.assignment.kbuild', { exact: true });
  const inline = at(11);
  expectScope(inline, ';', 'punctuation.separator.recipe.kbuild', { exact: true });
  expectScope(inline, 'CC', 'support.variable.kbuild.tool', { exact: true });
  expectScope(inline, 'CC', 'meta.scope.recipe.kbuild');
  expectScope(at(12), '&:', 'punctuation.separator.rule.kbuild', { exact: true });
  expectScope(at(12), 'a b', 'entity.name.function.target.kbuild');
  // Inside the ifeq after the rule block, the tab line is part of the rule (make would treat it as a recipe).
  expectScope(at(14), 'obj-y += top.o', 'meta.scope.recipe.kbuild');
  // A tab-indented line with no rule before it is an ordinary make line.
  const top = tokenize('ifeq ($(x),y)\n\tobj-y += top.o\nendif');
  assert.ok(top[1]);
  expectScope(top[1], 'obj-y', 'variable.other.kbuild.goal', { exact: true });
  expectNoScope(top[1], 'obj-y', 'meta.scope.recipe.kbuild');
});

test('conditionals', () => {
  const lines = tokenize(
    [
      'ifeq ($(CONFIG_ARM64_BTI_KERNEL),y) # comment',
      'else ifneq "$(ARCH)" "arm64"',
      'else ifdef CONFIG_CC_IS_CLANG',
      'else',
      'ifndef KBUILD_EXTMOD',
      '  endif',
      'endif',
    ].join('\n'),
  );
  const [l0, l1, l2, l3, l4, l5, l6] = lines;
  assert.ok(l0 && l1 && l2 && l3 && l4 && l5 && l6);
  expectScope(l0, 'ifeq', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l0, 'CONFIG_ARM64_BTI_KERNEL', 'constant.other.config.kbuild', { exact: true });
  expectScope(l0, ',', 'punctuation.separator.comma.kbuild', { exact: true });
  expectScope(l0, '(', 'punctuation.section.parens.kbuild', { exact: true });
  expectScope(l0, 'comment', 'comment.line.number-sign.kbuild');
  expectScope(l1, 'else', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l1, 'ifneq', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l1, 'ARCH', 'support.variable.kbuild', { exact: true });
  expectScope(l1, '"arm64"', 'string.quoted.double.kbuild');
  expectScope(l2, 'ifdef', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l2, 'CONFIG_CC_IS_CLANG', 'constant.other.config.kbuild', { exact: true });
  expectScope(l3, 'else', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l4, 'KBUILD_EXTMOD', 'variable.language.kbuild.kbuild-var', { exact: true });
  expectScope(l5, 'endif', 'keyword.control.conditional.kbuild', { exact: true });
  expectScope(l6, 'endif', 'keyword.control.conditional.kbuild', { exact: true });
});

test('define/endef and include', () => {
  const lines = tokenize(
    [
      'define rule_cc_o_c',
      '\t$(call cmd_and_fixdep,cc_o_c)',
      '\t# not a make comment: $(x)',
      'endef',
      'override define cmd_foo :=',
      '  echo $(1)',
      'endef',
      'include $(srctree)/scripts/Kbuild.include',
      '-include $(obj)/.*.cmd',
      'sinclude foo.mk',
      'x := 1',
    ].join('\n'),
  );
  const at = (i: number): Line => {
    const l = lines[i];
    assert.ok(l);
    return l;
  };
  expectScope(at(0), 'define', 'keyword.control.define.kbuild', { exact: true });
  expectScope(at(0), 'rule_cc_o_c', 'entity.name.function.kbuild.rule', { exact: true });
  expectScope(at(1), 'cc_o_c', 'entity.name.function.kbuild.cmd', { exact: true });
  expectScope(at(1), 'cc_o_c', 'meta.scope.define.kbuild');
  expectNoScope(at(2), 'not a make comment', 'comment.line.number-sign.kbuild');
  expectScope(at(2), 'x', 'variable.other.kbuild', { nth: 0, exact: true });
  expectScope(at(3), 'endef', 'keyword.control.define.kbuild', { exact: true });
  expectScope(at(4), 'override', 'storage.modifier.kbuild', { exact: true });
  expectScope(at(4), 'cmd_foo', 'entity.name.function.kbuild.cmd', { exact: true });
  expectScope(at(4), ':=', 'keyword.operator.assignment.kbuild', { exact: true });
  expectScope(at(5), '1', 'variable.parameter.kbuild', { exact: true });
  expectScope(at(7), 'include', 'keyword.control.include.kbuild', { exact: true });
  expectScope(at(7), 'srctree', 'variable.language.kbuild.directory', { exact: true });
  expectScope(at(8), '-include', 'keyword.control.include.kbuild', { exact: true });
  expectScope(at(9), 'sinclude', 'keyword.control.include.kbuild', { exact: true });
  expectScope(at(10), 'x', 'variable.other.kbuild', { exact: true });
  expectNoScope(at(10), 'x', 'meta.scope.define.kbuild');
});

// ---------------------------------------------------------------------------------------------------------
// Robustness: every Makefile/Kbuild file of a real tree, and pathological lines

function kbuildFiles(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) kbuildFiles(p, out);
    else if (/^(?:Makefile.*|Kbuild.*|.*\.mk)$/.test(e.name)) out.push(p);
  }
  return out;
}

test(
  'linux 6.12: every Makefile/Kbuild file under arch/ and scripts/ (and the top level) tokenizes quickly',
  { skip: skipUnlessKernel('6.12') },
  () => {
    const tree = kernelTree('6.12');
    assert.ok('path' in tree);
    const files = [
      join(tree.path, 'Makefile'),
      join(tree.path, 'Kbuild'),
      ...kbuildFiles(join(tree.path, 'arch'), []),
      ...kbuildFiles(join(tree.path, 'scripts'), []),
    ];
    assert.ok(files.length > 500, `only ${files.length} files`);
    let lineCount = 0;
    let slowest = { ms: 0, where: '' };
    // CPU time of this process, not wall time: the bounds hold however busy the machine is.
    const started = process.cpuUsage();
    for (const file of files) {
      let state: StateStack = INITIAL;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((text, i) => {
        const t0 = process.cpuUsage();
        const r = grammar.tokenizeLine(text, state);
        const ms = cpuMsSince(t0);
        if (ms > slowest.ms) slowest = { ms, where: `${file}:${i + 1}` };
        assert.equal(r.stoppedEarly, false, `${file}:${i + 1}`);
        state = r.ruleStack;
        lineCount++;
      });
    }
    const total = cpuMsSince(started);
    // Loose bounds: the whole set takes well under a second on a laptop; the first line also pays for regex compilation.
    assert.ok(slowest.ms < 500, `slowest line ${slowest.where} took ${slowest.ms.toFixed(1)} ms`);
    assert.ok(total < 30_000, `${lineCount} lines took ${total.toFixed(0)} ms`);
  },
);

test(
  'linux 6.12: no $( … ), assignment or comment stays open past a line that does not continue',
  { skip: skipUnlessKernel('6.12') },
  () => {
    const tree = kernelTree('6.12');
    assert.ok('path' in tree);
    const files = [
      join(tree.path, 'Makefile'),
      ...kbuildFiles(join(tree.path, 'arch'), []),
      ...kbuildFiles(join(tree.path, 'scripts'), []),
    ];
    const leaks = [
      'meta.scope.assignment.kbuild',
      'meta.variable-reference.kbuild',
      'meta.function-call.kbuild',
      'comment.line.number-sign.kbuild',
      'meta.scope.prerequisites.kbuild',
      'meta.scope.recipe.kbuild',
    ];
    let rules = 0;
    let defines = 0;
    for (const file of files) {
      let state: StateStack = INITIAL;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((text, i) => {
          state = grammar.tokenizeLine(text, state).ruleStack;
          if (text.endsWith('\\')) return;
          // Only the root, a rule (its recipe may follow) or a define body may be open at the end of a line.
          assert.ok(state.depth <= 2, `${file}:${i + 1} leaves ${state.depth} scopes open`);
          const open = grammar.tokenizeLine('', state).tokens[0]?.scopes ?? [];
          for (const leak of leaks)
            assert.ok(!open.includes(leak), `${file}:${i + 1} leaves ${leak} open: ${open.join(' ')}`);
          if (open.includes('meta.scope.rule.kbuild')) rules++;
          if (open.includes('meta.scope.define.kbuild')) defines++;
        });
    }
    assert.ok(rules > 1000 && defines > 100, `rules ${rules}, defines ${defines}`);
  },
);

test('pathological 10,000-character lines tokenize in reasonable time', () => {
  const n = 10_000;
  const cases: [string, string][] = [
    ['long word, no operator', 'a'.repeat(n)],
    ['dashes', '-'.repeat(n)],
    ['name-like, no operator', 'obj-'.repeat(n / 4)],
    ['targets without a colon', 'a b '.repeat(n / 4)],
    ['unclosed $(', '$('.repeat(n / 2)],
    ['$$ chain', '$'.repeat(n)],
    ['nested unbalanced refs', '$(a'.repeat(n / 3)],
    ['refs in a name', '$(x)'.repeat(n / 4) + 'y'],
    ['colons', ':'.repeat(n)],
    ['backslashes', '\\'.repeat(n)],
    ['assignment with long value', 'obj-y += ' + 'x.o '.repeat(n / 4)],
    ['deep function nesting', 'x := ' + '$(if a,'.repeat(n / 8) + ')'.repeat(n / 8)],
    ['comment', '#' + ' x'.repeat(n / 2)],
    ['recipe-looking', '\t' + '$(call if_changed,'.repeat(n / 18)],
    ['CFLAGS_ name', 'CFLAGS_' + 'a.'.repeat(n / 2)],
    ['parens', '('.repeat(n / 2) + ')'.repeat(n / 2)],
    ['mixed separators', 'a-$(b),c:d='.repeat(n / 11)],
  ];
  // Timed with tokenizeLine2 (binary tokens), which is what the editor uses to render. tokenizeLine also builds a
  // scope-name array per token, which costs O(nesting depth) per token: thousands of nested `$(` make that part,
  // not the regular expressions, dominate (about 1 s on the 'unclosed $(' line), so it is only checked to finish.
  for (const [label, text] of cases) {
    assert.ok(text.length >= n - 20, label);
    // At the top level, after a rule line (prerequisite and recipe patterns apply) and inside a define body.
    for (const prefix of ['', 'all: x', 'define x']) {
      const state = prefix ? grammar.tokenizeLine2(prefix, INITIAL).ruleStack : INITIAL;
      const t0 = process.cpuUsage();
      const r = grammar.tokenizeLine2(text, state);
      const ms = cpuMsSince(t0); // CPU time: independent of the machine's load
      assert.equal(r.stoppedEarly, false, label);
      assert.ok(ms < 2000, `${label} after ${JSON.stringify(prefix)}: ${ms.toFixed(0)} ms`);
      if (!prefix) assert.ok(grammar.tokenizeLine(text, state).tokens.length > 0, label);
    }
  }
});
