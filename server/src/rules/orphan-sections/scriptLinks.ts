// Links of the top Makefile that run in a script (Linux's vmlinux): found by what the make files do,
// not by their names. The top Makefile, read as make reads it in Kbuild's final invocation under the
// build's configuration, has a rule whose recipe runs `$(MAKE) -f <file of the tree>` (vmlinux ->
// scripts/Makefile.vmlinux); that file's rule for the same target runs a script of the tree (`$<`,
// scripts/link-vmlinux.sh) with an argument that passes `--orphan-handling=LEVEL` (the top Makefile's
// LDFLAGS_vmlinux). The linker script is the rule's `.lds` prerequisite ($(KBUILD_LDS)); the inputs
// are what the script links (linkScript.ts): vmlinux.a whole, lib.a on demand. The finding goes on
// the top Makefile's line that adds `--orphan-handling=`.
import * as path from 'node:path';
import type { AssignmentStmt, DefineStmt, Makefile, Statement } from '../../make/ast';
import { evaluateMakefile, type Evaluation } from '../../make/evaluator';
import { parseMakefile } from '../../make/parser';
import { isUnknownWord, knownPrefix, knownSuffix, splitWords } from '../../make/values';
import { readRegularTextSync } from '../../fs/safeRead';
import { allStatements, normalizePath, readRules, type MakeRule } from '../../kbuild/recipes';
import { finalInvocation } from '../../kbuild/kbuildTree';
import type { MakefileContext } from '../rule';
import { linkInputsOfScript } from './linkScript';
import type { OrphanLevel, OrphanLink } from './links';

const MAX_FILE_BYTES = 2 * 1024 * 1024;

function readTreeFile(root: string, rel: string): string | undefined {
  const file = path.resolve(root, rel);
  if (path.relative(root, file).startsWith('..')) return undefined;
  const r = readRegularTextSync(file, { maxBytes: MAX_FILE_BYTES });
  return r.ok ? r.text : undefined;
}

/**
 * The make files of the tree a live `include` of `mf` names (arch/$(SRCARCH)/Makefile, the
 * scripts/Makefile.* files), each read where make reads it: their statements spliced in after the
 * include. Not the build's own files (include/config/auto.conf, .cmd files): the configuration is given.
 */
function withIncludes(mf: Makefile, ev: Evaluation, root: string): Makefile {
  let spliced = false;
  const walk = (list: Statement[]): Statement[] =>
    list.flatMap((s): Statement[] => {
      if (s.kind === 'conditional') return [{ ...s, branches: s.branches.map((b) => ({ ...b, body: walk(b.body) })) }];
      if (s.kind !== 'include' || ev.liveness(s) !== 'live') return [s];
      const included = splitWords(ev.expand(s.files)).flatMap((w) => {
        const rel = path.relative(root, path.resolve(root, w));
        if (isUnknownWord(w) || rel.startsWith('..') || rel.startsWith('include/config/') || /(^|\/)\./.test(rel))
          return [];
        const text = readTreeFile(root, rel);
        return text === undefined ? [] : parseMakefile(text).statements;
      });
      if (included.length > 0) spliced = true;
      return [s, ...included];
    });
  const statements = walk(mf.statements);
  return spliced ? { ...mf, statements } : mf;
}

/** The top Makefile as make reads it in the final invocation (see kbuildTree.ts topLevelScripts). */
function evaluateTop(ctx: MakefileContext, root: string): Evaluation {
  const config = ctx.tree?.config ?? {};
  const opts = {
    initial: {
      ...config,
      ...finalInvocation(root),
      srctree: root,
      objtree: root,
      // The configuration's arch stands for the command line's ARCH= (SRCARCH follows from it).
      ...(ctx.tree?.toolchain.arch ? { ARCH: ctx.tree.toolchain.arch } : {}),
    },
    unknownConditions: 'false' as const,
  };
  const first = evaluateMakefile(ctx.makefile, opts);
  // What the included files set (the arch Makefile's libs-y, its LDFLAGS_vmlinux) is what the link gets.
  const whole = withIncludes(ctx.makefile, first, root);
  return whole === ctx.makefile ? first : evaluateMakefile(whole, opts);
}

/** Names a make text reads ($(NAME), ${NAME}). */
function readsOf(text: string): Set<string> {
  return new Set([...text.matchAll(/\$[({]([A-Za-z0-9_.-]+)[)}]/g)].map((m) => m[1]));
}

/**
 * The `-f FILE` of a recipe command that runs make. The top Makefile writes it `$(srctree)/scripts/...`,
 * and srctree comes from `$(realpath ...)`, which is never run here: a word made of one unknown part
 * and a known `/rest` is read as the tree's `rest`.
 */
function subMakeFile(rule: MakeRule): string | undefined {
  for (const c of rule.commands) {
    const i = c.words.indexOf('-f');
    const w = i >= 0 ? c.words[i + 1] : undefined;
    if (!w) continue;
    if (!isUnknownWord(w)) return w;
    const rest = knownSuffix(w);
    if (knownPrefix(w) === '' && rest.startsWith('/') && !isUnknownWord(rest)) return rest.slice(1);
  }
  return undefined;
}

function levelOf(word: string): OrphanLevel {
  return word === 'warn' || word === 'error' || word === 'place' ? word : 'unknown';
}

/** The assignment of the top Makefile that puts `--orphan-handling=` into one of `names`. */
function levelSource(
  ev: Evaluation,
  names: Iterable<string>,
): { stmt?: AssignmentStmt | DefineStmt; config?: string; variable?: string } {
  for (const name of names) {
    for (const rec of ev.variables.get(name)?.history ?? []) {
      const text = rec.stmt.kind === 'assignment' ? rec.stmt.valueText : rec.stmt.bodyText;
      const m = /--orphan-handling=(\S*)/.exec(text);
      if (!m || rec.ignored) continue;
      return { stmt: rec.stmt, config: /\$[({](CONFIG_[A-Za-z0-9_]+)[)}]/.exec(m[1])?.[1], variable: name };
    }
  }
  return {};
}

export interface ScriptLinks {
  links: OrphanLink[];
  incomplete: string[];
}

interface SubMake {
  text: string;
  makefile: ReturnType<typeof parseMakefile>;
  ev: Evaluation;
  rules: MakeRule[];
}

/** A make file of the tree that the top Makefile runs, evaluated with what it gets from the top Makefile. */
function subMake(
  root: string,
  top: Evaluation,
  file: string,
  config: Record<string, string>,
  carriers: Set<string>,
): SubMake | undefined {
  const text = readTreeFile(root, file);
  if (text === undefined) return undefined;
  // Only a file that passes the option, or reads a variable the top Makefile puts it in, can run such a link.
  const reads = readsOf(text);
  if (!text.includes('--orphan-handling=') && ![...carriers].some((n) => reads.has(n))) return undefined;
  // What the sub-make gets: the configuration (it includes auto.conf) and the values it reads that
  // the top Makefile sets (Kbuild exports them).
  const initial: Record<string, string> = { ...config };
  for (const name of reads) if (top.variables.has(name)) initial[name] = top.expand(`$(${name})`);
  const makefile = parseMakefile(text);
  const ev = evaluateMakefile(makefile, { initial, unknownConditions: 'false' });
  return { text, makefile, ev, rules: readRules(makefile, ev) };
}

const KBUILD_ARCHIVE = /(^|\/)(built-in|lib)\.a$/;

/**
 * True when the link is one of kernel objects: it links at least one archive whole, and every archive
 * it links is Kbuild's built-in.a or lib.a, or one that `rules` make from those only (vmlinux.a). Its
 * other inputs (init/version-timestamp.o) are objects of the tree's directories, compiled there.
 */
function kernelArchives(inputs: readonly string[], whole: readonly string[], rules: readonly MakeRule[]): boolean {
  const madeOf = (input: string): string[] | undefined =>
    rules
      .find((r) => r.targets.some((t) => normalizePath(t) === input))
      ?.prerequisites.map(normalizePath)
      .filter((p) => /\.(a|o)$/.test(p));
  const archives = inputs.filter((i) => i.endsWith('.a'));
  return (
    whole.some((w) => archives.includes(w)) &&
    archives.every((i) => {
      if (KBUILD_ARCHIVE.test(i)) return true;
      const parts = madeOf(i);
      return parts !== undefined && parts.length > 0 && parts.every((p) => KBUILD_ARCHIVE.test(p));
    })
  );
}

/** The links of one rule of the top Makefile handed to a sub-make whose rule runs a link script. */
function linksOfRule(
  root: string,
  top: Evaluation,
  rule: MakeRule,
  sub: SubMake,
  config: Record<string, string>,
  incomplete: string[],
  topRules: readonly MakeRule[],
): OrphanLink[] {
  const out: OrphanLink[] = [];
  const value = (n: string) =>
    top.variables.has(n) ? top.expand(`$(${n})`) : sub.ev.variables.has(n) ? sub.ev.expand(`$(${n})`) : undefined;
  for (const r of sub.rules) {
    if (!r.targets.some((t) => rule.targets.includes(t))) continue;
    for (const command of r.commands) {
      const words = command.words.flatMap((w) => splitWords(w));
      const arg = words.find((w) => /^(?:-Wl,)?--orphan-handling=/.test(w));
      if (!arg) continue;
      const program = normalizePath(command.program);
      const script = [...r.prerequisites, ...rule.prerequisites].find((p) => p.endsWith('.lds'));
      const shell = isUnknownWord(program) ? undefined : readTreeFile(root, program);
      const read = shell ? linkInputsOfScript(shell, config, value) : undefined;
      if (!read) {
        incomplete.push(`${r.targets[0]}: the link runs in ${program}, whose linker command this tool could not read`);
        continue;
      }
      incomplete.push(...read.incomplete.map((i) => `${program}: ${i}`));
      const def = command.definition;
      const source = levelSource(
        top,
        readsOf(def ? (def.kind === 'assignment' ? def.valueText : def.bodyText) : sub.text),
      );
      const inputs = [...new Set([...read.whole, ...read.group].map(normalizePath))];
      const whole = read.whole.filter((w) => w.endsWith('.a')).map(normalizePath);
      out.push({
        output: r.targets[0],
        script: script ? normalizePath(script) : undefined,
        inputs,
        wholeArchives: whole,
        level: levelOf(arg.replace(/^(?:-Wl,)?--orphan-handling=/, '')),
        relocatable: false,
        command,
        rule,
        levelLine: source.stmt,
        levelConfig: source.config,
        anchor: source.stmt?.span,
        compiledElsewhere: true,
        runsIn: program,
        kernelArchives: kernelArchives(inputs, whole, topRules),
      });
    }
  }
  return out;
}

/** The script-run links of the tree's top Makefile (none for any other make file). */
export function scriptLinks(ctx: MakefileContext): ScriptLinks {
  const root = ctx.kernelRoot;
  if (!root || ctx.objDir !== '.' || path.resolve(ctx.file) !== path.join(root, 'Makefile'))
    return { links: [], incomplete: [] };
  const top = evaluateTop(ctx, root);
  const config = ctx.tree?.config ?? {};
  const incomplete: string[] = [];
  const links: OrphanLink[] = [];
  const subs = new Map<string, SubMake | undefined>();
  // The variables the top Makefile writes `--orphan-handling=` into (LDFLAGS_vmlinux).
  const carriers = new Set<string>();
  for (const s of allStatements(ctx.makefile.statements))
    if (
      (s.kind === 'assignment' && s.valueText.includes('--orphan-handling=')) ||
      (s.kind === 'define' && s.bodyText.includes('--orphan-handling='))
    )
      carriers.add(s.nameText.trim());
  if (carriers.size === 0) return { links: [], incomplete: [] };
  const topRules = readRules(ctx.makefile, top);
  for (const rule of topRules) {
    const file = subMakeFile(rule);
    if (!file) continue;
    const rel = path.relative(root, path.resolve(root, file));
    if (!subs.has(rel)) subs.set(rel, subMake(root, top, rel, config, carriers));
    const sub = subs.get(rel);
    if (sub) links.push(...linksOfRule(root, top, rule, sub, config, incomplete, topRules));
  }
  return { links, incomplete };
}
