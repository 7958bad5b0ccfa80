// The per-directory switches of a tree's Kbuild (`PROPELLER_PROFILE := n`, `AUTOFDO_PROFILE := n`,
// `KCOV_INSTRUMENT := n`, ...): scripts/Makefile.lib adds a script's flags to `_c_flags`/`c_flags` under
// `$(if $(patsubst n%,, $(NAME_$(target-stem).o)$(NAME)<default>), $(FLAGS))`, after the remove lists
// (CFLAGS_REMOVE_<obj>.o) are applied, so only the switch keeps those flags off a directory's objects.
// Found by what the statements read, not by their names. Knows no rule.
import type { Evaluation } from '../make/evaluator';
import { isUnknownWord, splitWords } from '../make/values';
import type { KbuildTree } from './kbuildTree';
import { allStatements } from './recipes';

/**
 * The switches of the `_c_flags +=` statements of scripts/Makefile.lib that add one of `flags` (a
 * variable they read expands, in `ev`, to a word among them): plain upper-case names no Kbuild
 * script assigns (the directory sets them).
 */
export function switchesAdding(tree: KbuildTree | undefined, ev: Evaluation, flags: readonly string[]): string[] {
  const lib = tree?.makefileLib;
  if (!lib || flags.length === 0) return [];
  const assigned = new Set<string>();
  for (const mf of [lib, ...(tree?.prelude.map((p) => p.makefile) ?? [])])
    for (const s of allStatements(mf.statements))
      if (s.kind === 'assignment' || s.kind === 'define') assigned.add(s.nameText.trim());
  const out = new Set<string>();
  for (const s of allStatements(lib.statements)) {
    if (s.kind !== 'assignment' || !/^_?c_flags$/.test(s.nameText.trim()) || s.op !== '+=') continue;
    const names = [...s.valueText.matchAll(/\$\(([A-Z][A-Z0-9_]*)\)/g)].map((m) => m[1]);
    const adds = names.some(
      (n) => assigned.has(n) && splitWords(ev.expand(`$(${n})`)).some((w) => !isUnknownWord(w) && flags.includes(w)),
    );
    if (!adds) continue;
    for (const n of names) if (!n.startsWith('CONFIG_') && !n.startsWith('KBUILD_') && !assigned.has(n)) out.add(n);
  }
  return [...out].sort();
}
