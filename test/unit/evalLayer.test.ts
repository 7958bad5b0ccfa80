// A shared initial layer (the tree's configuration, prepared once) must evaluate exactly as the same
// values given in `initial`, with the layer winning for a name in both: the edit path relies on it.
import { probeHooks } from '../../server/src/kbuild/probes';
import { defaultProbeSession } from '../../server/src/kbuild/compileFlags';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMakefile } from '../../server/src/make/parser';
import { evaluateMakefile, initialLayer, type EvalOptions, type Evaluation } from '../../server/src/make/evaluator';
import { unknownValue } from '../../server/src/make/values';
import { compileFlags, evaluateInKbuild, kbuildEvalOptions, objectStems } from '../../server/src/kbuild/compileFlags';
import { kbuildStatements, loadKbuildTree, parseConfig, type KbuildTree } from '../../server/src/kbuild/kbuildTree';
import { kernelTree, skipUnlessKernel } from '../helpers/kernelTree';

/** Everything a caller can see of an evaluation, in a comparable form (variable order aside). */
function view(ev: Evaluation, names: string[]): unknown {
  const vars = [...ev.variables.values()]
    .map((v) => [v.name, v.flavor, v.value, v.origin, v.history.length] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));
  return {
    vars,
    values: names.map((n) => [n, ev.expand(`$(${n})`), ev.expand(`$(origin ${n})`), ev.expand(`$(flavor ${n})`)]),
    unknown: ev.unknownConditionals.length,
    diagnostics: ev.diagnostics,
  };
}

const CASES: { text: string; initial: Record<string, string>; layer: Record<string, string>; names: string[] }[] = [
  {
    text: 'A ?= 1\nB += 2\nC := $(A) $(B) $(D)\n',
    initial: {},
    layer: { A: 'x', B: 'y', D: '' },
    names: ['A', 'B', 'C', 'D'],
  },
  {
    text: 'ifdef A\nX := a-set\nendif\nifeq ($(E),)\nY := e-empty\nendif\nundefine A\nZ := $(A)|$(origin A)\n',
    initial: {},
    layer: { A: 'y', E: '' },
    names: ['A', 'E', 'X', 'Y', 'Z'],
  },
  {
    text: 'obj-$(CONFIG_K) += k.o\nobj-$(CONFIG_M) += m.o\nCFLAGS_k.o := -DK\n',
    initial: { CONFIG_K: 'n' },
    layer: { CONFIG_K: 'y', CONFIG_M: '' },
    names: ['obj-y', 'obj-', 'obj-n', 'CONFIG_K'],
  },
  {
    text: 'override A = $(B)\nB = later\nA += more\n',
    initial: { B: 'first' },
    layer: { A: 'init' },
    names: ['A', 'B'],
  },
];

for (const [i, c] of CASES.entries()) {
  for (const undefinedIsEmpty of [false, true]) {
    test(`a layer evaluates as the same values in initial (case ${i + 1}, undefinedIsEmpty ${undefinedIsEmpty})`, () => {
      const mf = parseMakefile(c.text);
      const plain: EvalOptions = { initial: { ...c.initial, ...c.layer }, undefinedIsEmpty };
      const layered: EvalOptions = { initial: c.initial, layer: initialLayer(c.layer), undefinedIsEmpty };
      assert.deepEqual(view(evaluateMakefile(mf, layered), c.names), view(evaluateMakefile(mf, plain), c.names));
    });
  }
}

test('one layer serves many evaluations without being changed by them', () => {
  const layer = initialLayer({ A: '1' });
  const a = evaluateMakefile(parseMakefile('A += 2\n'), { layer });
  const b = evaluateMakefile(parseMakefile('undefine A\n'), { layer });
  const c = evaluateMakefile(parseMakefile('B := $(A)\n'), { layer });
  assert.equal(a.expand('$(A)'), '1 2');
  assert.equal(b.variables.has('A'), false);
  assert.equal(c.expand('$(B)'), '1');
  assert.equal(layer.defs.get('A')?.value, '1');
});

/** evaluateInKbuild as it was before the layer: every configuration value in `initial`. */
function withConfigInInitial(
  tree: KbuildTree,
  mf: ReturnType<typeof parseMakefile>,
  objDir: string,
  kcflags: string,
  mode: 'true' | 'false',
): Evaluation {
  // The probes answer as evaluateInKbuild's do: only where the configuration comes from differs.
  const opts = { ...kbuildEvalOptions(objDir, kcflags, mode), callHooks: probeHooks(defaultProbeSession(tree)) };
  const { statements, reads } = kbuildStatements(tree, mf);
  const initial: NonNullable<EvalOptions['initial']> = {};
  for (const name of tree.inputs) if (reads.has(name)) initial[name] = unknownValue(name);
  Object.assign(initial, opts.initial, { srctree: tree.root, objtree: tree.root });
  for (const name of tree.unsetConfig) initial[name] = '';
  for (const [name, value] of Object.entries(tree.config)) initial[name] = value;
  return evaluateMakefile({ ...mf, statements }, { ...opts, initial, undefinedIsEmpty: true });
}

test(
  'Linux 6.1 nvhe Makefile with its tree and arm64 defconfig: the same variables and compile flags as with the configuration in initial',
  { skip: skipUnlessKernel('6.1') },
  () => {
    const t = kernelTree('6.1');
    assert.ok('path' in t);
    const base = loadKbuildTree(t.path);
    assert.ok(base, 'the tree has scripts/Makefile.lib');
    const config = parseConfig(readFileSync(join(t.path, 'arch/arm64/configs/defconfig'), 'utf8'));
    // CONFIG_CC_IS_CLANG is set by the evaluation options; the configuration must win over it.
    config.CONFIG_CC_IS_CLANG = 'from-config';
    const unsetConfig = base.unsetConfig.length > 0 ? base.unsetConfig : ['CONFIG_LTO_CLANG', 'CONFIG_LD_IS_LLD'];
    const tree: KbuildTree = { ...base, config, configSource: 'arch/arm64/configs/defconfig', unsetConfig };
    const objDir = 'arch/arm64/kvm/hyp/nvhe';
    const mf = parseMakefile(readFileSync(join(t.path, objDir, 'Makefile'), 'utf8'));
    for (const mode of ['false', 'true'] as const) {
      const now = evaluateInKbuild(mf, objDir, '-fprofile-sample-use=/p.prof', mode, tree);
      const before = withConfigInInitial(tree, mf, objDir, '-fprofile-sample-use=/p.prof', mode);
      assert.deepEqual(
        view(now, ['KBUILD_CFLAGS', 'CONFIG_CC_IS_CLANG', 'CONFIG_LD_IS_LLD', 'obj-y', 'hyp-obj-y']),
        view(before, ['KBUILD_CFLAGS', 'CONFIG_CC_IS_CLANG', 'CONFIG_LD_IS_LLD', 'obj-y', 'hyp-obj-y']),
      );
      assert.equal(now.expand('$(CONFIG_CC_IS_CLANG)'), 'from-config');
      const stems = objectStems(now, ['hyp-main.nvhe']);
      assert.deepEqual([...stems].sort(), objectStems(before, ['hyp-main.nvhe']).sort());
      assert.ok(stems.length > 1, `per-object stems found: ${JSON.stringify(stems)}`);
      for (const stem of stems)
        assert.deepEqual(compileFlags(now, stem, objDir), compileFlags(before, stem, objDir), `flags of ${stem}`);
    }
  },
);
