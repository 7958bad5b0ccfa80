// Which links of a directory Makefile report orphan sections: every command of a live rule that passes
// `--orphan-handling=LEVEL` (or `-Wl,--orphan-handling=LEVEL`), found by what the recipes run
// (Kbuild's cmd_ld through if_changed, a cmd of the directory's own, a plain recipe), not by path.
// From each: its output, its linker script (-T), its input objects and the orphan level, resolved from
// the build's configuration when the Makefile takes it from a CONFIG_ value.
import type { AssignmentStmt, DefineStmt, Span } from '../../make/ast';
import type { Evaluation } from '../../make/evaluator';
import { isUnknownWord } from '../../make/values';
import {
  allStatements,
  linkerOutput,
  linkerScriptOf,
  normalizePath,
  readRules,
  type Command,
  type MakeRule,
} from '../../kbuild/recipes';
import type { Makefile } from '../../make/ast';

export type OrphanLevel = 'warn' | 'error' | 'place' | 'unknown';

export interface OrphanLink {
  /** The file the link writes, relative to the build directory. */
  output: string;
  /** The linker script (-T), relative to the build directory. */
  script?: string;
  /** Input objects, in command-line order. */
  inputs: string[];
  level: OrphanLevel;
  /** `ld -r`: orphans keep their names and SHF_EXCLUDE sections stay. */
  relocatable: boolean;
  command: Command;
  rule: MakeRule;
  /** The assignment that adds `--orphan-handling=` (where the level comes from), when the file has one. */
  levelLine?: AssignmentStmt | DefineStmt;
  /** The CONFIG_ value the level is read from (`CONFIG_LD_ORPHAN_WARN_LEVEL`), when it is one. */
  levelConfig?: string;
  /** Archives among the inputs whose every member is linked (--whole-archive); other archives link on demand. */
  wholeArchives?: string[];
  /** Where the finding goes in the analyzed file, when not on the link's recipe (scriptLinks.ts). */
  anchor?: Span;
  /** The inputs are compiled by other directories' Makefiles (vmlinux): their flags are not this file's. */
  compiledElsewhere?: boolean;
  /** The script of the tree the link runs in (scripts/link-vmlinux.sh), when a script runs it. */
  runsIn?: string;
  /**
   * A link of kernel objects: every archive it links is Kbuild's built-in.a or lib.a, or one the same
   * make file makes from those only (the top Makefile's vmlinux.a), at least one linked whole.
   */
  kernelArchives?: boolean;
}

const ORPHAN_ARG = /^(?:-Wl,)?--orphan-handling=(.*)$/;

function levelOf(word: string): OrphanLevel {
  if (isUnknownWord(word)) return 'unknown';
  return word === 'warn' || word === 'error' || word === 'place' ? word : word === '' ? 'unknown' : 'unknown';
}

/** The statement that writes `--orphan-handling=` into a variable, and the CONFIG_ name it reads. */
function levelSource(mf: Makefile): { stmt?: AssignmentStmt | DefineStmt; config?: string } {
  for (const s of allStatements(mf.statements)) {
    if (s.kind !== 'assignment' && s.kind !== 'define') continue;
    const text = s.kind === 'assignment' ? s.valueText : s.bodyText;
    const m = /--orphan-handling=(\S*)/.exec(text);
    if (!m) continue;
    return { stmt: s, config: /\$[({](CONFIG_[A-Za-z0-9_]+)[)}]/.exec(m[1])?.[1] };
  }
  return {};
}

function isObjectWord(w: string): boolean {
  return !isUnknownWord(w) && !w.startsWith('-') && /\.(o|a)$/.test(w);
}

/** The orphan-reporting links of an evaluated Makefile. */
export function findOrphanLinks(mf: Makefile, ev: Evaluation): OrphanLink[] {
  const out: OrphanLink[] = [];
  const source = levelSource(mf);
  for (const rule of readRules(mf, ev)) {
    for (const command of rule.commands) {
      // All words: with $(LD) expanding to nothing the first option is the program word, and the
      // shell reader took its leading dashes for make's recipe prefixes: give them back.
      const words = command.words.map((a, i) =>
        (i === 0 && a.startsWith('orphan-handling=') ? `--${a}` : a).replace(/^-Wl,/, ''),
      );
      const arg = words.find((a) => ORPHAN_ARG.test(a));
      if (!arg) continue;
      const output = normalizePath(linkerOutput({ ...command, args: words }) ?? rule.targets[0] ?? '');
      const scriptWord = linkerScriptOf({ ...command, args: words });
      const script = scriptWord && !isUnknownWord(scriptWord) ? normalizePath(scriptWord) : undefined;
      const inputs = words.filter((w) => isObjectWord(w) && normalizePath(w) !== output).map(normalizePath);
      out.push({
        output,
        script,
        inputs: [...new Set(inputs)],
        level: levelOf(ORPHAN_ARG.exec(arg)?.[1] ?? ''),
        relocatable: words.includes('-r') || words.includes('--relocatable'),
        command,
        rule,
        levelLine: source.stmt,
        levelConfig: source.config,
      });
    }
  }
  return out;
}
