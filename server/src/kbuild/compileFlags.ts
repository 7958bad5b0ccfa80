// Which flags reach an object's compile in a Kbuild directory. With the tree's own Kbuild (its
// scripts/Makefile.lib and the scripts the top Makefile includes, under its configuration: see
// kbuildTree.ts) the flags are what its `c_flags` gives for the object; a tree without
// scripts/Makefile.lib gets the built-in `_c_flags` formula below. Knows no rule.
import type { Makefile } from '../make/ast';
import {
  evaluateMakefile,
  initialLayer,
  type EvalOptions,
  type Evaluation,
  type InitialLayer,
} from '../make/evaluator';
import { splitWords, unknownValue } from '../make/values';
import type { Surroundings } from './includes';
import { kbuildStatements, type KbuildTree } from './kbuildTree';
import { probeHooks, probeSession, type ProbeSession } from './probes';

/** Without a configuration: a clang build (the product is about them) of unknown version and arch. */
const UNKNOWN_CLANG = { compiler: 'clang', source: 'assumed' } as const;

/** The stem standing for every object without per-object flags of its own. */
export const ANY_OBJECT = '\u0000any-object';

/**
 * The context a directory Makefile is evaluated in: `$(obj)`/`$(src)`, a clang/LLVM build, and
 * KBUILD_CFLAGS as the top Makefile leaves it with `extraCflags` appended (the user's KCFLAGS).
 * Conditions on values the file does not know are taken as `unknownConditions`.
 */
export function kbuildEvalOptions(
  objDir: string,
  extraCflags: string,
  unknownConditions: 'true' | 'false',
): EvalOptions {
  return {
    unknownConditions,
    initial: {
      KBUILD_CFLAGS: `${unknownValue('KBUILD_CFLAGS')} ${extraCflags}`,
      obj: objDir,
      src: objDir,
      // The product is about clang builds.
      CONFIG_CC_IS_CLANG: 'y',
      CONFIG_LD_IS_LLD: 'y',
      CONFIG_AS_IS_LLVM: 'y',
      LLVM: '1',
      cmd_ld: { value: '$(LD) $(ld_flags) $(real-prereqs) -o $@', flavor: 'recursive' },
      ld_flags: { value: '$(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))', flavor: 'recursive' },
      'real-prereqs': { value: '$(filter-out $(PHONY), $^)', flavor: 'recursive' },
      PHONY: 'FORCE',
    },
  };
}

/** A probe session for a tree's build (its recorded toolchain), taking `yes` where the build does not answer. */
export function defaultProbeSession(tree?: KbuildTree): ProbeSession {
  return probeSession(tree?.toolchain ?? UNKNOWN_CLANG);
}

/**
 * Evaluates a directory Makefile the way Kbuild reads it: with the tree's Kbuild around it when
 * `tree` is given (its configuration as variables; CONFIG_ options it does not set are empty).
 * Kbuild's probes (cc-option, ...) are answered by `probes` (probes.ts), which records what it could
 * not answer.
 */
export function evaluateInKbuild(
  mf: Makefile,
  objDir: string,
  extraCflags = '',
  unknownConditions: 'true' | 'false' = 'false',
  tree?: KbuildTree,
  surroundings?: Surroundings,
  probes: ProbeSession = defaultProbeSession(tree),
): Evaluation {
  const opts: EvalOptions = {
    ...kbuildEvalOptions(objDir, extraCflags, unknownConditions),
    callHooks: probeHooks(probes),
  };
  // An included file is read where its includer includes it.
  const directory = surroundings
    ? { ...mf, statements: [...surroundings.before, ...mf.statements, ...surroundings.after] }
    : mf;
  if (!tree) return evaluateMakefile(directory, opts);
  // `$(call if_changed,ld)` reaches cmd_ld through a computed name (cmd_$(1)): the names the built-in
  // command texts read ($(LD), ...) are needed too, else an unset $(LD) would be empty, not unknown.
  const builtins = Object.values(opts.initial ?? {}).flatMap((v) => (typeof v === 'object' ? [v.value] : []));
  const { statements, reads } = kbuildStatements(tree, directory, builtins);
  const initial: NonNullable<EvalOptions['initial']> = {};
  // Command-line inputs stay unknown; every other variable nobody sets is empty (plain make).
  for (const name of tree.inputs) if (reads.has(name)) initial[name] = unknownValue(name);
  Object.assign(initial, opts.initial, { srctree: tree.root, objtree: tree.root });
  // The configuration (it wins over the values above) is prepared once per tree, not per edit.
  return evaluateMakefile(
    { ...directory, statements },
    { ...opts, initial, layer: configLayer(tree), undefinedIsEmpty: true },
  );
}

const configLayers = new WeakMap<KbuildTree, InitialLayer | undefined>();

/** The tree's configuration as shared initial variables: its values, and '' for the options it leaves unset. */
function configLayer(tree: KbuildTree): InitialLayer | undefined {
  if (!tree.configSource) return undefined;
  if (configLayers.has(tree)) return configLayers.get(tree);
  const values: Record<string, string> = {};
  for (const name of tree.unsetConfig) values[name] = '';
  Object.assign(values, tree.config);
  const layer = initialLayer(values);
  configLayers.set(tree, layer);
  return layer;
}

/** The built-in formula: scripts/Makefile.lib's `_c_flags` of Linux 5.x/6.x, for trees without one. */
const BUILTIN_C_FLAGS =
  '$(filter-out $(CFLAGS_REMOVE_$(target-stem).o), $(filter-out $(ccflags-remove-y), ' +
  '$(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) $(ccflags-y)) $(CFLAGS_$(target-stem).o))';

/**
 * The flags of one object's compile, as words in order: the tree's `c_flags` (or `_c_flags`) when
 * the evaluation has it, else the built-in formula. `stem` is the object's path relative to the
 * directory, without `.o` (Kbuild's target-stem).
 */
export function compileFlags(ev: Evaluation, stem: string, objDir = '.'): string[] {
  if (ev.variables.has('c_flags') || ev.variables.has('_c_flags')) {
    const target = objDir === '.' ? `${stem}.o` : `${objDir}/${stem}.o`;
    return splitWords(
      ev.expand(ev.variables.has('c_flags') ? '$(c_flags)' : '$(_c_flags)', { '@': target, 'target-stem': stem }),
    );
  }
  return splitWords(ev.expand(BUILTIN_C_FLAGS, { 'target-stem': stem }));
}

/**
 * Object stems to judge: objects with per-object variables (CFLAGS_x.o, CFLAGS_REMOVE_x.o, and
 * any other `<NAME>_x.o` the tree's Kbuild reads), the objects given, and ANY_OBJECT for all others.
 */
export function objectStems(ev: Evaluation, objects: readonly string[] = []): string[] {
  const stems = new Set<string>([ANY_OBJECT, ...objects]);
  for (const name of ev.variables.keys()) {
    // Cheap test first: most names (the configuration's thousands) are not per-object.
    if (!name.endsWith('.o')) continue;
    const m = /^[A-Za-z]+(?:_[A-Z]+)*_(.+)\.o$/.exec(name);
    if (m && !m[1].includes('$')) stems.add(m[1]);
  }
  return [...stems];
}

/** Variables that feed the compile flags formula (for hovers and explanations). */
export const COMPILE_FLAG_VARIABLE =
  /^(KBUILD_CFLAGS|KBUILD_CPPFLAGS|ccflags-y|ccflags-remove-y|CFLAGS_.+\.o|CFLAGS_REMOVE_.+\.o)$/;

/** `-fprofile-sample-use=/tmp/kernel.prof` -> `-fprofile-sample-use=…` (drops the value). */
export function flagShape(flag: string): string {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : flag.slice(0, eq + 1) + '…';
}
