// What a build does with the objects of a Kbuild list line (`obj-$(CONFIG_X) += foo.o`,
// `kvm-$(CONFIG_Y) += bar.o`, `lib-y`, `hyp-obj-$(CONFIG_Z)`), under a configured evaluation of the
// Makefile (pure: the evaluation and the syntax tree only). Kbuild's rules: obj-y is built in, obj-m
// a module; lib-y and lib-m go into lib.a (built in); <name>-y and <name>-m are the parts of the
// composite object <name>.o, which has the fate of the list that names it; a list whose suffix is
// empty or n is not built.
import type { AssignmentStmt, Makefile } from '../make/ast';
import type { Evaluation } from '../make/evaluator';
import { walkStatements } from '../make/parser';
import { isUnknownWord, splitWords } from '../make/values';

/** 'built': by this Makefile's own rules, which read the list (e.g. the nvhe hyp-obj-y). */
export type Fate = 'built-in' | 'module' | 'built' | 'not-built' | 'unknown';

export interface ListFate {
  /** The list's name as make sees it with this configuration (e.g. `obj-y`, `kvm-`). */
  list: string;
  /** The options in the name that decide it. */
  options: string[];
  fate: Fate;
  /** How it comes to that, in words (the composite object, lib.a...). */
  why: string;
  /** The words of the line that are objects (`foo.o`) or folders (`dir/`). */
  objects: string[];
}

const LIST_NAME = /^(.+?)-(y|m|n|)$/;
/** Kbuild variables with a -y form that hold flags or other targets, not objects to link. */
const NOT_OBJECT_LISTS =
  /(^|-)(ccflags|asflags|ldflags|cflags|rustflags|cppflags|remove|hostprogs|userprogs|always|extra|targets|clean|header-test|subdir)(-|$)/;

function suffixFate(suffix: string): Fate {
  return suffix === 'y' ? 'built-in' : suffix === 'm' ? 'module' : 'not-built';
}

/** The fate of the list `name` (already expanded); `depth` bounds composite chains. */
function fateOfList(name: string, mf: Makefile, ev: Evaluation, depth: number): { fate: Fate; why: string } {
  const m = LIST_NAME.exec(name);
  if (!m || isUnknownWord(name) || name.includes('\u27e8'))
    return { fate: 'unknown', why: 'the list name depends on something unknown here' };
  const [, prefix, suffix] = m;
  if (suffix === '' || suffix === 'n') return { fate: 'not-built', why: `\`${name}\` is a list Kbuild never reads` };
  if (prefix === 'obj')
    return {
      fate: suffixFate(suffix),
      why: suffix === 'y' ? 'in obj-y: linked into the kernel image' : 'in obj-m: built as a module',
    };
  if (prefix === 'lib')
    return { fate: 'built-in', why: `in ${name}: archived into lib.a, linked into the kernel image` };
  if (depth > 4) return { fate: 'unknown', why: 'composite objects nest too deep' };
  const composite = `${prefix}.o`;
  const owner = listNaming(composite, mf, ev);
  if (!owner) {
    if (readsList(`${prefix}-${suffix}`, mf))
      return { fate: 'built', why: `in ${name}, which this Makefile's own lines read` };
    return {
      fate: 'unknown',
      why: `in ${name}: part of \`${composite}\` if this Makefile's lists name it (none does with this configuration)`,
    };
  }
  const of = fateOfList(owner, mf, ev, depth + 1);
  return { fate: of.fate, why: `in ${name}: linked into \`${composite}\`, which is in ${owner} (${of.why})` };
}

/** The list that names `object` with this configuration (a live assignment whose value holds it). */
function listNaming(object: string, mf: Makefile, ev: Evaluation): string | undefined {
  let found: string | undefined;
  walkStatements(mf.statements, (s) => {
    if (found || s.kind !== 'assignment' || ev.liveness(s) !== 'live') return;
    if (!splitWords(ev.expand(s.value)).includes(object)) return;
    const name = ev.expand(s.name).trim();
    if (LIST_NAME.test(name) && !NOT_OBJECT_LISTS.test(name)) found = name;
  });
  return found;
}

/** True when an assignment of the file reads `$(list)`. */
function readsList(list: string, mf: Makefile): boolean {
  let found = false;
  walkStatements(mf.statements, (s) => {
    if (
      !found &&
      s.kind === 'assignment' &&
      (s.valueText.includes(`$(${list})`) || s.valueText.includes(`\${${list}}`))
    )
      found = true;
  });
  return found;
}

export function listFate(stmt: AssignmentStmt, mf: Makefile, ev: Evaluation): ListFate | undefined {
  if (stmt.targets || NOT_OBJECT_LISTS.test(stmt.nameText)) return undefined;
  const objects = splitWords(ev.expand(stmt.value)).filter(
    (w) => !isUnknownWord(w) && (w.endsWith('.o') || w.endsWith('/')),
  );
  if (objects.length === 0) return undefined;
  const list = ev.expand(stmt.name).trim();
  if (!/^[^\s]+-\S*$/.test(stmt.nameText.trim())) return undefined;
  const options = [...stmt.nameText.matchAll(/\$[({](CONFIG_[A-Za-z0-9_]+)[)}]/g)].map((m) => m[1]);
  // A line in a branch make does not take, or cannot decide, does nothing sure.
  const live = ev.liveness(stmt);
  if (live !== 'live')
    return {
      list,
      options,
      fate: live === 'dead' ? 'not-built' : 'unknown',
      why:
        live === 'dead'
          ? 'the line is in a branch this configuration does not take'
          : 'the line is in a branch whose condition is unknown here',
      objects,
    };
  return { list, options, objects, ...fateOfList(list, mf, ev, 0) };
}
