// Which flags reach an object's compile in a Kbuild directory: the parts of Kbuild's shared
// definitions (scripts/Makefile.lib's `_c_flags`, Kbuild.include's cmd/if_changed) that a directory
// Makefile is evaluated against, and the per-object flag formula. Knows no rule.
import type { Makefile } from '../make/ast';
import { evaluateMakefile, type EvalOptions, type Evaluation } from '../make/evaluator';
import { splitWords, unknownValue } from '../make/values';

/** The stem standing for every object without per-object flags of its own. */
export const ANY_OBJECT = '\u0000any-object';

/**
 * The context a directory Makefile is evaluated in: `$(obj)`/`$(src)`, a clang/LLVM build, and
 * KBUILD_CFLAGS as the top Makefile leaves it with `extraCflags` appended (the user's KCFLAGS).
 * Conditions on values the file does not know are taken as `unknownConditions`.
 */
export function kbuildEvalOptions(objDir: string, extraCflags: string, unknownConditions: 'true' | 'false'): EvalOptions {
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
      // cc-option answers whether the compiler accepts a flag; clang accepts the flags asked about.
      'cc-option': { value: '$(1)', flavor: 'recursive' },
      cmd_ld: { value: '$(LD) $(ld_flags) $(real-prereqs) -o $@', flavor: 'recursive' },
      ld_flags: { value: '$(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))', flavor: 'recursive' },
      'real-prereqs': { value: '$(filter-out $(PHONY), $^)', flavor: 'recursive' },
      PHONY: 'FORCE',
    },
  };
}

/** Evaluates a directory Makefile in the Kbuild context. */
export function evaluateInKbuild(mf: Makefile, objDir: string, extraCflags = '', unknownConditions: 'true' | 'false' = 'false'): Evaluation {
  return evaluateMakefile(mf, kbuildEvalOptions(objDir, extraCflags, unknownConditions));
}

/** Kbuild's c_flags for one object stem (scripts/Makefile.lib `_c_flags`), as words in order. */
export function compileFlags(ev: Evaluation, stem: string): string[] {
  const text =
    '$(filter-out $(CFLAGS_REMOVE_$(target-stem).o), $(filter-out $(ccflags-remove-y), ' +
    '$(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) $(ccflags-y)) $(CFLAGS_$(target-stem).o))';
  return splitWords(ev.expand(text, { 'target-stem': stem }));
}

/** Objects with their own CFLAGS_x.o / CFLAGS_REMOVE_x.o, plus ANY_OBJECT standing for all others. */
export function objectStems(ev: Evaluation): string[] {
  const stems = new Set<string>([ANY_OBJECT]);
  for (const name of ev.variables.keys()) {
    const m = /^CFLAGS_(?:REMOVE_)?(.+)\.o$/.exec(name);
    if (m) stems.add(m[1]);
  }
  return [...stems];
}

/** Variables that feed the compile flags formula (for hovers and explanations). */
export const COMPILE_FLAG_VARIABLE = /^(KBUILD_CFLAGS|KBUILD_CPPFLAGS|ccflags-y|ccflags-remove-y|CFLAGS_.+\.o|CFLAGS_REMOVE_.+\.o)$/;

/** `-fprofile-sample-use=/tmp/kernel.prof` -> `-fprofile-sample-use=…` (drops the value). */
export function flagShape(flag: string): string {
  const eq = flag.indexOf('=');
  return eq < 0 ? flag : flag.slice(0, eq + 1) + '…';
}
