// Parses and evaluates every make file of Debian's linux-source-6.12 (Makefile, Kbuild, *.mk, Makefile.*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseMakefile, walkStatements } from '../../server/src/make/parser';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { documentSymbols } from '../../server/src/make/symbols';
import { displayValue, splitWords } from '../../server/src/make/values';
import type { Makefile, Statement } from '../../server/src/make/ast';
import { kernelTree, root as repoRoot, skipUnlessKernel } from '../helpers/kernelTree';

/** Files named like make files that are not make: each with the reason. */
const NOT_MAKE: Record<string, string> = {
  'tools/perf/scripts/perl/Perf-Trace-Util/Makefile.PL': 'a Perl ExtUtils::MakeMaker script, not a make file',
};

export function isMakeFileName(name: string): boolean {
  return name === 'Makefile' || name === 'Kbuild' || name.endsWith('.mk') || name.startsWith('Makefile.');
}

function listMakeFiles(root: string): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    const d = stack.pop() as string;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (n !== '.git') stack.push(p);
      } else if (isMakeFileName(n)) out.push(p);
    }
  }
  return out.sort();
}

function uncoveredLines(text: string, mf: Makefile): number[] {
  const lines = text.split('\n');
  const covered = new Uint8Array(lines.length);
  const mark = (a: number, b: number) => {
    for (let i = a; i <= b && i < lines.length; i++) covered[i] = 1;
  };
  walkStatements(mf.statements, (s: Statement) => {
    mark(s.span.start.line, s.span.end.line);
    if (s.kind === 'rule') for (const r of s.recipe) mark(r.span.start.line, r.span.end.line);
  });
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '' && !covered[i]) out.push(i);
  });
  return out;
}

const skip = skipUnlessKernel('6.12');
const tree = kernelTree('6.12');
const root = 'path' in tree ? tree.path : '';
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

test(
  '6.12 corpus: every make file parses without ErrorStmt, every non-blank line is covered, evaluation terminates',
  { skip },
  () => {
    const files = listMakeFiles(root);
    assert.ok(files.length > 3000, `only ${files.length} make files found`);
    const problems: string[] = [];
    let statements = 0;
    for (const f of files) {
      const rel = relative(root, f);
      if (NOT_MAKE[rel]) continue;
      const text = readFileSync(f, 'utf8');
      const mf = parseMakefile(text);
      walkStatements(mf.statements, (s) => {
        statements++;
        if (s.kind === 'error') problems.push(`${rel}:${s.span.start.line + 1}: ${s.message}`);
      });
      for (const d of mf.diagnostics)
        if (d.severity === 'error') problems.push(`${rel}:${d.span.start.line + 1}: diagnostic ${d.message}`);
      const unc = uncoveredLines(text, mf);
      if (unc.length)
        problems.push(
          `${rel}: lines not in any statement: ${unc
            .slice(0, 5)
            .map((x) => x + 1)
            .join(',')}`,
        );
      const ev = evaluateMakefile(mf);
      assert.ok(ev.variables instanceof Map);
    }
    assert.deepEqual(problems.slice(0, 20), []);
    // 61,399 on 6.12.117, 59,436 on 6.12.118 (Debian's point releases differ): a floor, not a count.
    assert.ok(statements > 50_000, `${statements} statements`);
  },
);

test('6.12 corpus: the allow-listed non-make files really are not make', { skip }, () => {
  for (const rel of Object.keys(NOT_MAKE)) {
    const mf = parseMakefile(read(rel));
    let errors = 0;
    walkStatements(mf.statements, (s) => {
      if (s.kind === 'error') errors++;
    });
    assert.ok(errors > 0, `${rel} parses cleanly: drop it from the allow-list`);
  }
});

test('6.12 facts: top Makefile version variables', { skip }, () => {
  const ev = evaluateMakefile(parseMakefile(read('Makefile')));
  // The point release changes with Debian's package: the text's own assignments are the oracle.
  const text = read('Makefile');
  const sub = /^SUBLEVEL = (\d+)$/m.exec(text)?.[1];
  assert.ok(sub, 'the Makefile assigns SUBLEVEL');
  assert.equal(ev.expand('$(VERSION).$(PATCHLEVEL).$(SUBLEVEL)'), `6.12.${sub}`);
  assert.equal(ev.expand('$(NAME)'), 'Baby Opossum Posse');
  assert.equal(ev.variables.get('VERSION')?.flavor, 'recursive');
  assert.equal(ev.variables.get('EXTRAVERSION')?.value, '');
});

test('6.12 facts: scripts/Kbuild.include punctuation variables and helpers', { skip }, () => {
  const ev = evaluateMakefile(parseMakefile(read('scripts/Kbuild.include')));
  assert.equal(ev.expand('$(comma)'), ',');
  assert.equal(ev.expand('$(quote)'), '"');
  assert.equal(ev.expand('$(squote)'), "'");
  assert.equal(ev.expand('[$(space)]'), '[ ]');
  assert.equal(ev.expand('$(pound)'), '#');
  assert.equal(ev.expand('$(space_escape)'), '_-_SPACE_-_');
  assert.equal(
    ev.expand('$(dot-target)', { '@': 'arch/arm64/kvm/hyp/nvhe/hyp-main.nvhe.o' }),
    'arch/arm64/kvm/hyp/nvhe/.hyp-main.nvhe.o',
  );
  assert.equal(ev.expand("$(call escsq,it's)"), "it'\\''s");
  assert.equal(ev.variables.get('dot-target')?.flavor, 'recursive');
});

test('6.12 facts: scripts/Makefile.compiler defines the option probes as recursive functions', { skip }, () => {
  const mf = parseMakefile(read('scripts/Makefile.compiler'));
  const ev = evaluateMakefile(mf);
  for (const n of ['try-run', 'as-option', 'cc-option', 'cc-option-yn', 'cc-disable-warning', 'ld-option']) {
    assert.equal(ev.variables.get(n)?.flavor, 'recursive', n);
  }
  // cc-option runs the compiler through $(shell): never executed, so unknown.
  assert.match(displayValue(ev.expand('$(call cc-option,-fno-profile-sample-use)')), /⟨/);
  assert.equal(ev.expand('$(call cc-option-yn,-x)').includes('\u0001'), true);
});

test('6.12 facts: arch/arm64/kvm/hyp/nvhe/Makefile evaluation and symbols', { skip }, () => {
  const mf = parseMakefile(read('arch/arm64/kvm/hyp/nvhe/Makefile'));
  assert.equal(mf.diagnostics.length, 0);
  const ev = evaluateMakefile(mf, {
    initial: {
      KBUILD_CFLAGS:
        '-O2 -fpatchable-function-entry=2 -fprofile-use=/p/x.profdata -fprofile-sample-use=/p/nvhe.prof -g',
      CC_FLAGS_FTRACE: '-fpatchable-function-entry=2',
      CC_FLAGS_SCS: '',
    },
  });
  assert.deepEqual(splitWords(ev.expand('$(KBUILD_CFLAGS)')), [
    '-O2',
    '-g',
    '-fno-asynchronous-unwind-tables',
    '-fno-unwind-tables',
  ]);
  assert.equal(ev.variables.get('KBUILD_CFLAGS')?.flavor, 'simple');
  assert.equal(ev.variables.get('KBUILD_CFLAGS')?.history.length, 3);
  const objs = splitWords(ev.expand('$(hyp-obj)'));
  assert.equal(objs.length, 32); // 20 + 8 + 4 lib objects; list_debug.o depends on CONFIG_LIST_HARDENED
  assert.ok(objs.includes('ffa.nvhe.o'));
  assert.equal(
    ev.expand('$(lib-objs)'),
    '../../../lib/clear_page.o ../../../lib/copy_page.o ../../../lib/memcpy.o ../../../lib/memset.o',
  );
  assert.equal(
    ev.expand('$(CFLAGS_switch.nvhe.o)'),
    '⟨CFLAGS_switch.nvhe.o⟩ -Wno-override-init'.replace('⟨CFLAGS_switch.nvhe.o⟩', '\u0001CFLAGS_switch.nvhe.o\u0002'),
  );
  const syms = documentSymbols(mf);
  const names = syms.map((s) => s.name);
  assert.ok(names.includes('cmd_hyprel'));
  assert.ok(names.includes('quiet_cmd_hypcopy'));
  assert.ok(names.includes('$(obj)/kvm_nvhe.tmp.o'));
  assert.equal(names.filter((n) => n === 'KBUILD_CFLAGS').length, 3);
});

test('6.12 facts: symbol and statement counts in small files checked by hand', { skip }, () => {
  // arch/arm64/kvm/hyp/nvhe/Makefile (6.12): rules are the 6 pattern/target rules of the pipeline.
  const mf = parseMakefile(read('arch/arm64/kvm/hyp/nvhe/Makefile'));
  const rules = mf.statements.filter((s) => s.kind === 'rule');
  assert.equal(rules.length, 7);
  const text = read('arch/arm64/kvm/hyp/nvhe/Makefile');
  const assignLines = text
    .split('\n')
    .filter((l) => /^[A-Za-z_][^\s:=+?!]*\s*(\+|:|\?)?=/.test(l) || /^\s+cmd_/.test(l)).length;
  const assigns = mf.statements.filter((s) => s.kind === 'assignment').length;
  assert.equal(assigns, assignLines);
});

test('6.12 unconfigured tree: `check .` at the root judges everything and finds nothing (exit 0)', { skip }, () => {
  // No build and no section-making flags: the orphan links (the compat vDSO's among them) have nothing
  // to place, so their scripts, which need the generated autoconf.h, are never preprocessed.
  const cli = join(repoRoot, 'server', 'out', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'check', '.'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  assert.doesNotMatch(r.stdout, /: (error|warning):/);
  // The tree's own nvhe Makefile still gets its notes: the walk reached it and a rule judged it.
  assert.match(r.stdout, /arch\/arm64\/kvm\/hyp\/nvhe\/Makefile:\d+:\d+: note: /);
});
