// The Kconfig parser and index on ordinary and hostile input (cycles, depth, too many files, a FIFO,
// huge lines, binary junk, unresolved variables), the evaluator's branch states, the configuration
// references of a make file and the fate of list lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandKconfig, parseKconfig } from '../../server/src/kbuild/kconfig';
import { buildKconfigIndex } from '../../server/src/kbuild/kconfigIndex';
import { configReferences } from '../../server/src/kbuild/configRefs';
import { listFate } from '../../server/src/kbuild/objectFate';
import { configArch } from '../../server/src/kbuild/kbuildTree';
import { inactiveRanges } from '../../server/src/features/inactiveBranches';
import { parseMakefile } from '../../server/src/make/parser';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import type { AssignmentStmt, ConditionalStmt } from '../../server/src/make/ast';
import { cpuTimed } from '../helpers/cpuTime';

test('parseKconfig: entries with type, prompt, first help line; source lines; assignments', () => {
  const k = parseKconfig(
    [
      'SRCARCH_X := $(SRCARCH)',
      'menuconfig KVM',
      '\tbool "Kernel-based Virtual Machine (KVM) support"',
      '\tdepends on A=B',
      '\thelp',
      '\t  Support hosting virtualized guest machines.',
      '',
      '\t  Second line.',
      'config NOT_HELP',
      '\tdef_tristate m',
      '\tprompt "later prompt"',
      'config STR',
      '\tstring',
      '\tprompt "a \\"quoted\\" prompt"',
      '\t---help---',
      '\t  old style',
      'source "arch/$(SRCARCH)/Kconfig"',
      'rsource "sub/Kconfig"',
      'osource "maybe/Kconfig"',
      'orsource "rel/maybe"',
    ].join('\n'),
  );
  assert.deepEqual(
    k.entries.map((e) => [e.name, e.kind, e.line, e.nameStart, e.type, e.prompt, e.help]),
    [
      [
        'KVM',
        'menuconfig',
        1,
        11,
        'bool',
        'Kernel-based Virtual Machine (KVM) support',
        'Support hosting virtualized guest machines.',
      ],
      ['NOT_HELP', 'config', 8, 7, 'tristate', 'later prompt', undefined],
      ['STR', 'config', 11, 7, 'string', 'a "quoted" prompt', 'old style'],
    ],
  );
  assert.deepEqual(
    k.items.map((i) => (i.kind === 'source' ? [i.path, i.relative, i.optional] : [i.name, i.op, i.value])),
    [
      ['SRCARCH_X', ':=', '$(SRCARCH)'],
      ['arch/$(SRCARCH)/Kconfig', false, false],
      ['sub/Kconfig', true, false],
      ['maybe/Kconfig', false, true],
      ['rel/maybe', true, true],
    ],
  );
});

test('parseKconfig on hostile text: huge lines, unterminated quotes, binary junk, endless continuations; never throws, bounded', () => {
  const junk = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256)).toString('latin1');
  const huge = 'config ' + 'A'.repeat(5_000_000);
  const conts = 'config X\\\n'.repeat(50_000);
  for (const text of [
    junk,
    huge,
    conts,
    'config\nsource\nsource "unterminated\nhelp\n',
    '\t\t\thelp\n'.repeat(100_000),
  ]) {
    const { value: k, ms } = cpuTimed(() => parseKconfig(text));
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms of CPU`);
    assert.ok(Array.isArray(k.entries));
  }
  assert.deepEqual(parseKconfig(huge).entries, [], 'an over-long line is not read');
});

test('expandKconfig: variables, recursive ones, functions and unknown names left unresolved', () => {
  const vars = new Map([
    ['SRCARCH', 'arm64'],
    ['A', '$(B)'],
    ['B', 'b'],
    ['SELF', '$(SELF)'],
  ]);
  assert.deepEqual(expandKconfig('arch/$(SRCARCH)/Kconfig', vars), { value: 'arch/arm64/Kconfig', unresolved: [] });
  assert.equal(expandKconfig('$(A)', vars).value, 'b');
  assert.deepEqual(expandKconfig('$(HEADER_ARCH)/x', vars).unresolved, ['HEADER_ARCH']);
  assert.ok(expandKconfig('$(shell,uname -m)', vars).unresolved.length > 0, 'a function is never run');
  assert.ok(expandKconfig('$(SELF)', vars).unresolved.length > 0, 'self-reference is cut, not endless');
  assert.ok(expandKconfig('$(unclosed', vars).unresolved.length > 0);
});

function treeWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kbd-kconfig-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('index: follows source with $(SRCARCH) and the files own variables; cycles, missing files and unresolved names are partial', async () => {
  const root = treeWith({
    Kconfig:
      'source "scripts/Kconfig.include"\nsource "init/Kconfig"\nsource "arch/$(SRCARCH)/Kconfig"\nsource "$(NOPE)/Kconfig"\nsource "gone/Kconfig"\nosource "optional/Kconfig"\n',
    'scripts/Kconfig.include': 'SUB := sub\n',
    'init/Kconfig': 'config INIT\n\tbool "init"\nrsource "$(SUB)/Kconfig"\n',
    'init/sub/Kconfig': 'config SUB_OPT\n\tint\nsource "init/Kconfig"\n',
    'arch/arm64/Kconfig': 'config ARM64\n\tdef_bool y\n',
    'arch/x86/Kconfig': 'config X86\n\tdef_bool y\n',
  });
  try {
    const i = await buildKconfigIndex(root, 'arm64');
    assert.deepEqual([...i.entries.keys()].sort(), ['ARM64', 'INIT', 'SUB_OPT']);
    assert.equal(i.files, 5);
    assert.ok(
      i.partial.some((p) => /source cycle/.test(p)),
      i.partial.join('\n'),
    );
    assert.ok(i.partial.some((p) => /NOPE cannot be resolved/.test(p)));
    assert.ok(i.partial.some((p) => /gone\/Kconfig/.test(p)));
    assert.ok(!i.partial.some((p) => /optional/.test(p)), 'a missing osource file is fine');
    const all = await buildKconfigIndex(root, undefined);
    assert.ok(all.entries.has('X86') && all.entries.has('ARM64'), 'without an architecture, every arch/*/Kconfig');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test(
  'index bounds: depth, file count, size, a FIFO and a self-link: partial, never a hang',
  { timeout: 60_000 },
  async () => {
    const files: Record<string, string> = {
      Kconfig: 'source "big"\nsource "fifo"\nsource "loop"\nsource "d/0"\nsource "many/Kconfig"\n',
    };
    for (let i = 0; i < 100; i++) files[`d/${i}`] = `config D${i}\nsource "d/${i + 1}"\n`;
    files['many/Kconfig'] = Array.from({ length: 300 }, (_, i) => `source "many/${i}"`).join('\n');
    for (let i = 0; i < 300; i++) files[`many/${i}`] = `config M${i}\n`;
    files.big = 'config BIG\n' + '#'.repeat(3 * 1024 * 1024);
    const root = treeWith(files);
    execFileSync('mkfifo', [join(root, 'fifo')]);
    symlinkSync(join(root, 'loop'), join(root, 'loop'));
    try {
      const t0 = performance.now();
      const i = await buildKconfigIndex(root, 'arm64', { maxFiles: 200, maxBytes: 1024 * 1024, maxDepth: 40 });
      assert.ok(performance.now() - t0 < 20_000);
      assert.ok(i.files <= 200);
      assert.ok(
        i.partial.some((p) => /levels deep/.test(p)),
        'depth',
      );
      assert.ok(
        i.partial.some((p) => /more than 200 Kconfig files/.test(p)),
        'file count',
      );
      assert.ok(
        i.partial.some((p) => /big/.test(p)),
        'size',
      );
      assert.ok(
        i.partial.some((p) => /fifo/.test(p)),
        'FIFO',
      );
      assert.ok(
        i.partial.some((p) => /loop/.test(p)),
        'symlink loop',
      );
      assert.ok(!i.entries.has('BIG'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);

test('configArch reads the heading Kconfig writes', () => {
  assert.equal(
    configArch('#\n# Automatically generated file; DO NOT EDIT.\n# Linux/arm64 6.12.117 Kernel Configuration\n#\n'),
    'arm64',
  );
  assert.equal(configArch('CONFIG_X=y\n'), undefined);
});

test('branch states: decided, undecidable (command line, $(shell)), inner branches share an undecided one', () => {
  const text = [
    'ifeq ($(CONFIG_A),y)',
    'a := 1',
    'else ifeq ($(CONFIG_B),y)',
    'b := 1',
    'else',
    'c := 1',
    'endif',
    'ifneq ($(LLVM),)',
    'ifdef CONFIG_A',
    'x := 1',
    'endif',
    'endif',
    'ifeq ($(shell uname),Linux)',
    'y := 1',
    'endif',
    'ifdef CONFIG_C',
    'z := 1',
    'endif',
  ].join('\n');
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf, { initial: { CONFIG_A: '', CONFIG_B: 'y', CONFIG_C: '' } });
  const conds = mf.statements.filter((s): s is ConditionalStmt => s.kind === 'conditional');
  assert.deepEqual(
    conds[0].branches.map((b) => ev.branchLiveness(b)),
    ['dead', 'live', 'dead'],
  );
  assert.equal(ev.branchLiveness(conds[1].branches[0]), 'unknown');
  const inner = conds[1].branches[0].body.find(
    (s): s is ConditionalStmt => s.kind === 'conditional',
  ) as ConditionalStmt;
  assert.equal(ev.branchLiveness(inner.branches[0]), 'unknown', 'decidable, but inside an undecided branch');
  assert.equal(ev.branchLiveness(conds[2].branches[0]), 'unknown');
  assert.deepEqual(inactiveRanges(mf.statements, ev), [
    { first: 1, last: 1, test: 'ifeq' },
    { first: 5, last: 5, test: 'else' },
    { first: 16, last: 16, test: 'ifdef' },
  ]);
});

test('configReferences: $(CONFIG_X) anywhere, ifdef CONFIG_X, not computed names', () => {
  const text =
    'obj-$(CONFIG_KVM) += kvm.o\nifdef CONFIG_COMPAT\nx := $(patsubst %,%,$(CONFIG_Y)) $(CONFIG_$(Z))\nendif\nifeq ($(CONFIG_W),y)\nendif\n';
  const refs = configReferences(parseMakefile(text));
  assert.deepEqual(
    refs.map((r) => [r.name, r.span.start.line, r.span.start.character, r.span.end.character]),
    [
      ['CONFIG_KVM', 0, 4, 17],
      ['CONFIG_COMPAT', 1, 6, 19],
      ['CONFIG_Y', 2, 20, 31],
      ['CONFIG_W', 4, 6, 17],
    ],
  );
});

test('listFate: obj-y built in, obj-m module, unset not built, composite parts follow their object, lib- and hyp-obj-', () => {
  const text = [
    'obj-$(CONFIG_KVM) += kvm.o',
    'kvm-y += a.o',
    'kvm-$(CONFIG_P) += ptdump.o',
    'kvm-$(CONFIG_Q) += q.o',
    'obj-$(CONFIG_MOD) += mod.o sub/',
    'lib-$(CONFIG_L) += l.o',
    'hyp-obj-$(CONFIG_H) += h.o',
    'ccflags-$(CONFIG_KVM) += -DX',
    'obj-$(CONFIG_$(X)) += u.o',
    'hyp-obj := $(patsubst %.o,%.nvhe.o,$(hyp-obj-y))',
  ].join('\n');
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf, {
    initial: { CONFIG_KVM: 'y', CONFIG_P: '', CONFIG_Q: 'm', CONFIG_MOD: 'm', CONFIG_L: 'm', CONFIG_H: 'y' },
  });
  const stmts = mf.statements as AssignmentStmt[];
  const fate = (i: number) => listFate(stmts[i], mf, ev);
  assert.equal(fate(0)?.fate, 'built-in');
  assert.equal(fate(1)?.fate, 'built-in');
  assert.match(fate(1)?.why ?? '', /linked into `kvm\.o`/);
  assert.equal(fate(2)?.fate, 'not-built');
  assert.deepEqual(fate(2)?.options, ['CONFIG_P']);
  assert.equal(fate(3)?.fate, 'built-in', 'kvm-m parts are linked into kvm.o too');
  assert.equal(fate(4)?.fate, 'module');
  assert.deepEqual(fate(4)?.objects, ['mod.o', 'sub/']);
  assert.equal(fate(5)?.fate, 'built-in', 'lib-m goes into lib.a');
  assert.equal(fate(6)?.fate, 'built', 'hyp-obj-y: read by the Makefile itself');
  assert.equal(fate(7), undefined, 'flags are not objects');
  assert.equal(fate(8)?.fate, 'unknown');
});
