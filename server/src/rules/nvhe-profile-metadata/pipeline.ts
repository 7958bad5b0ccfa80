// Finds the nVHE hyp pipeline in an evaluated Makefile by what its rules do, not by names or lines:
// the command that runs gen-hyprel, the file it reads, the rules that produce that file (ld -r with
// a linker script, objcopy), and the HYPCOPY objcopy.
import type { Makefile } from '../../make/ast';
import type { Evaluation } from '../../make/evaluator';
import { normalizePath, readRules, type Command, type MakeRule } from '../../kbuild/recipes';
import { isObjcopy, programName } from '../../kbuild/shellCommands';

export interface Pipeline {
  /** The command that runs gen-hyprel, and the object it reads. */
  genHyprel: Command;
  genHyprelInput: string;
  rules: MakeRule[];
  /** The objcopy that prefixes symbols (HYPCOPY), when there is one. */
  hypcopy?: Command;
}

function isGenHyprel(program: string): boolean {
  return programName(program) === 'gen-hyprel';
}

/** The first non-option argument: the file gen-hyprel reads (its argv[1]). */
function firstOperand(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

export function findPipeline(mf: Makefile, ev: Evaluation): Pipeline | undefined {
  const rules = readRules(mf, ev);
  for (const r of rules) {
    const genHyprel = r.commands.find((c) => isGenHyprel(c.program));
    if (!genHyprel) continue;
    const input = firstOperand(genHyprel.args);
    if (!input) continue;
    const hypcopy = rules
      .flatMap((x) => x.commands)
      .find((c) => isObjcopy(c.program) && c.args.some((a) => a.startsWith('--prefix-symbols')));
    return { genHyprel, genHyprelInput: normalizePath(input), rules, hypcopy };
  }
  return undefined;
}

/** The rule that makes `file` in the pipeline, if the Makefile has one. */
export function producerOf(p: Pipeline, file: string): MakeRule | undefined {
  return p.rules.find((r) => r.targets.includes(file));
}
