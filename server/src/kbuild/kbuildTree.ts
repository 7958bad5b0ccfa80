// The tree's own Kbuild, as far as it decides a directory's compile flags: the configuration
// (include/config/auto.conf of the build directory, else .config), the scripts/Makefile.* files the
// top Makefile includes under that configuration (evaluated, never run), and scripts/Makefile.lib,
// whose `c_flags` is what reaches each object's compile. A directory Makefile is evaluated between
// them, as make does: top-level scripts, then the directory's Makefile, then Makefile.lib.
import { readRegularTextSync, statSafeSync } from '../fs/safeRead';
import * as path from 'node:path';
import type { Expr, Makefile, Statement } from '../make/ast';
import { evaluateMakefile } from '../make/evaluator';
import { parseMakefile } from '../make/parser';
import { splitWords } from '../make/values';
import { allStatements } from './recipes';
import { toolchainFromConfig, type Toolchain } from './toolchain';

/** Largest Kbuild script read (the top Makefile is about 70 KB). */
const MAX_SCRIPT_BYTES = 2 * 1024 * 1024;

export interface KbuildTree {
  root: string;
  /** CONFIG_* values, and where they were read ('' when no configuration was found). */
  config: Record<string, string>;
  configSource: string;
  /** The compiler, linker and arch the configuration records (probes are answered for them). */
  toolchain: Toolchain;
  /** The top Makefile's included scripts (scripts/Makefile.*), in include order. */
  prelude: { file: string; makefile: Makefile }[];
  /** scripts/Makefile.lib, when the tree has one. */
  makefileLib?: Makefile;
  /** CONFIG_* names the scripts read but the configuration does not set (empty in Kbuild). */
  unsetConfig: string[];
  /**
   * What stays unknown: the make-command-line and environment inputs (variables the top Makefile
   * and its scripts read but never set: KCFLAGS, LLVM, a profile path...) and what the top Makefile
   * sets (it is not evaluated: tools, global flags). Any other variable nobody sets is empty, as in
   * make (per-directory and per-object switches such as AUTOFDO_PROFILE).
   */
  inputs: string[];
}

function readSmall(file: string): string | undefined {
  const r = readRegularTextSync(file, { maxBytes: MAX_SCRIPT_BYTES });
  return r.ok ? r.text : undefined;
}

/** `CONFIG_X=value` lines (auto.conf and .config); `# CONFIG_X is not set` leaves X unset. */
export function parseConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** The ARCH a configuration was made for, from the heading Kconfig writes (`# Linux/arm64 6.12.1 Kernel Configuration`). */
export function configArch(text: string): string | undefined {
  return /^# Linux\/([\w-]+) \S+ Kernel Configuration$/m.exec(text.slice(0, 4096))?.[1];
}

function mtimeOf(file: string): number | undefined {
  const st = statSafeSync(file);
  return st.ok ? st.stat.mtimeMs : undefined;
}

/**
 * The configuration of a build: its include/config/auto.conf, else its .config. A .config newer
 * than auto.conf wins: the next build regenerates auto.conf from it (syncconfig), so auto.conf is
 * stale (e.g. after `scripts/config --enable X` and `make olddefconfig`, which do not rewrite it).
 */
export function readConfig(
  buildDir: string | undefined,
  root: string,
): { config: Record<string, string>; source: string; arch?: string } {
  for (const dir of buildDir && buildDir !== root ? [buildDir, root] : [root]) {
    const autoConf = path.join(dir, 'include/config/auto.conf');
    const dotConfig = path.join(dir, '.config');
    const autoTime = mtimeOf(autoConf);
    const dotTime = mtimeOf(dotConfig);
    const order =
      autoTime !== undefined && dotTime !== undefined && dotTime > autoTime
        ? [dotConfig, autoConf]
        : [autoConf, dotConfig];
    for (const file of order) {
      const text = readSmall(file);
      if (text !== undefined) return { config: parseConfig(text), source: file, arch: configArch(text) };
    }
  }
  return { config: {}, source: '' };
}

/** Variables a parsed make file assigns (plain names only). */
function assignedNames(mf: Makefile): Set<string> {
  const out = new Set<string>();
  for (const s of allStatements(mf.statements))
    if ((s.kind === 'assignment' || s.kind === 'define') && /^[A-Za-z0-9_.-]+$/.test(s.nameText.trim()))
      out.add(s.nameText.trim());
  return out;
}

/**
 * What make gets in Kbuild's final invocation of the top Makefile, the one that includes the scripts
 * and builds (in place, at `root`): the first invocation exported sub_make_done and abs_objtree, and
 * runs it in abs_objtree with --no-print-directory. Without these, the sub-make tests
 * (`ifeq ($(abs_objtree),$(CURDIR))`, `ifneq ($(sub_make_done),1)`) are unknown, taken as false, and
 * the whole body of a real top Makefile is dead. A newer top Makefile (6.12's; 6.1's does it in the
 * first invocation only) computes abs_srctree and abs_objtree in every invocation
 * (`$(realpath $(dir $(this-makefile)))`, `$(CURDIR)`), which the evaluator leaves unknown (it queries
 * no file system), and with them `$(srctree)`, which names every included script: both are given as
 * make's command line gives variables (the file's assignments keep them), with the value they have
 * there, the tree's root.
 */
export function finalInvocation(
  root: string,
): Record<string, string | { value: string; flavor: 'simple'; commandLine: true }> {
  const pinned = { flavor: 'simple' as const, commandLine: true as const };
  return {
    sub_make_done: '1',
    abs_srctree: { value: root, ...pinned },
    abs_objtree: { value: root, ...pinned },
    CURDIR: root,
    MAKEFLAGS: '-rR --no-print-directory',
  };
}

/** The scripts/Makefile.* files the top Makefile includes with this configuration, by evaluating it. */
function topLevelScripts(root: string, config: Record<string, string>, text: string | undefined): string[] {
  if (text === undefined) return [];
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf, {
    initial: { ...config, ...finalInvocation(root), srctree: root, objtree: root },
    unknownConditions: 'false',
  });
  const out: string[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind !== 'include' || ev.liveness(s) === 'dead') continue;
    for (const word of splitWords(ev.expand(s.files))) {
      const file = path.resolve(root, word);
      const rel = path.relative(root, file);
      // Only the tree's own Kbuild scripts: the flags they set are what every directory gets.
      if (/^scripts\/Makefile\.[\w-]+$/.test(rel) && rel !== 'scripts/Makefile.lib' && !out.includes(file))
        out.push(file);
    }
  }
  return out;
}

const cache = new Map<string, { stamp: string; tree: KbuildTree | undefined }>();

function stampOf(files: string[]): string {
  return files
    .map((f) => {
      const st = statSafeSync(f);
      return st.ok ? `${f}:${st.stat.size}:${st.stat.mtimeMs}` : `${f}:-`;
    })
    .join('|');
}

/**
 * The tree's Kbuild for a kernel root and build directory, cached until one of its files changes;
 * undefined when the tree has no scripts/Makefile.lib (the caller then uses the built-in formula).
 */
export function loadKbuildTree(root: string, buildDir?: string): KbuildTree | undefined {
  const configFiles = [buildDir, root]
    .filter((d): d is string => !!d)
    .flatMap((d) => [path.join(d, 'include/config/auto.conf'), path.join(d, '.config')]);
  const key = `${root}\0${buildDir ?? ''}`;
  const baseStamp = stampOf([path.join(root, 'Makefile'), path.join(root, 'scripts/Makefile.lib'), ...configFiles]);
  const hit = cache.get(key);
  if (hit && hit.stamp.startsWith(baseStamp)) {
    if (!hit.tree || stampOf(hit.tree.prelude.map((p) => p.file)) === hit.stamp.slice(baseStamp.length + 1))
      return hit.tree;
  }
  const tree = buildTree(root, buildDir);
  cache.set(key, { stamp: `${baseStamp}\n${stampOf(tree?.prelude.map((p) => p.file) ?? [])}`, tree });
  return tree;
}

function buildTree(root: string, buildDir?: string): KbuildTree | undefined {
  const libText = readSmall(path.join(root, 'scripts', 'Makefile.lib'));
  if (libText === undefined) return undefined;
  const { config, source } = readConfig(buildDir, root);
  const topText = readSmall(path.join(root, 'Makefile'));
  const prelude: KbuildTree['prelude'] = [];
  // The top Makefile is not evaluated: what it reads (the command line) and what it sets (tools,
  // flags) stay unknown.
  const read = new Set(readsOf(topText ?? ''));
  if (topText !== undefined) for (const n of assignedNames(parseMakefile(topText))) read.add(n);
  const assigned = new Set<string>();
  for (const file of topLevelScripts(root, config, topText)) {
    const text = readSmall(file);
    if (text === undefined) continue;
    const makefile = parseMakefile(text);
    prelude.push({ file, makefile });
    for (const n of readsOf(text)) read.add(n);
    for (const n of assignedNames(makefile)) assigned.add(n);
  }
  const inputs = [...read].filter((n) => !assigned.has(n) && !n.startsWith('CONFIG_'));
  const makefileLib = parseMakefile(libText);
  // With a configuration, a CONFIG_ option it does not set is empty (Kbuild's auto.conf semantics).
  const unsetConfig = new Set<string>();
  if (source) {
    for (const t of [libText, ...prelude.map((p) => readSmall(p.file) ?? '')]) {
      for (const m of t.matchAll(/CONFIG_[A-Za-z0-9_]+/g)) if (!(m[0] in config)) unsetConfig.add(m[0]);
    }
  }
  return {
    root,
    config,
    configSource: source,
    toolchain: toolchainFromConfig(config, source),
    prelude,
    makefileLib,
    unsetConfig: [...unsetConfig],
    inputs,
  };
}

/**
 * The arch of `arch/<arch>/...` when the directory belongs to another arch than the one the tree's
 * configuration was made for: the top Makefile descends into `arch/$(SRCARCH)/` only, so this build
 * compiles nothing there. Undefined when it is the configured arch's, outside `arch/`, or the
 * configuration does not say its arch.
 */
export function otherArchDirectory(tree: KbuildTree | undefined, objDir: string): string | undefined {
  const arch = tree?.toolchain.arch;
  const m = /^arch\/([^/]+)(?:\/|$)/.exec(objDir);
  return arch && m && m[1] !== arch ? m[1] : undefined;
}

/** Variables a text reads: `$(NAME)`, `${NAME}`, `$(call NAME,...)`, and names inside computed ones. */
function readsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\$[({](?:call\s+)?([A-Za-z0-9_.-]+)/g)) out.push(m[1]);
  for (const m of text.matchAll(/^\s*ifn?def\s+([A-Za-z0-9_.-]+)/gm)) out.push(m[1]);
  // `$(call if_changed,X)` (and cmd, if_changed_dep, ...) runs `cmd_X`: recipes.ts reads it so.
  for (const m of text.matchAll(
    /\$[({]call\s+(?:if_changed|if_changed_dep|if_changed_except|cmd)\s*,\s*([A-Za-z0-9_.-]+)/g,
  ))
    out.push(`cmd_${m[1]}`);
  return out;
}

const assignmentIndexes = new WeakMap<Statement[], Map<Statement, { name: string; reads: string[] }>>();

function assignmentsOf(statements: Statement[]): Map<Statement, { name: string; reads: string[] }> {
  let assigns = assignmentIndexes.get(statements);
  if (!assigns) {
    assigns = new Map();
    for (const s of allStatements(statements)) {
      if (s.kind === 'assignment') assigns.set(s, { name: s.nameText.trim(), reads: readsOf(s.valueText) });
      else if (s.kind === 'define') assigns.set(s, { name: s.nameText.trim(), reads: readsOf(s.bodyText) });
    }
    assignmentIndexes.set(statements, assigns);
  }
  return assigns;
}

/**
 * The part of the tree's scripts that decides what `roots` expand to: assignments to the variables
 * they read, transitively, inside the conditionals that hold them. Everything else in the scripts
 * (rules, object lists nobody reads here) is left out, so a directory is evaluated in milliseconds.
 */
function slice(statements: Statement[], needed: Set<string>): Statement[] {
  const keep = (list: Statement[]): Statement[] => {
    const out: Statement[] = [];
    for (const s of list) {
      if (s.kind === 'conditional') {
        const branches = s.branches.map((b) => ({ ...b, body: keep(b.body) }));
        if (branches.some((b) => b.body.length > 0)) out.push({ ...s, branches });
      } else if ((s.kind === 'assignment' || s.kind === 'define') && needed.has(s.nameText.trim())) out.push(s);
    }
    return out;
  };
  return keep(statements);
}

/** Name -> what its assignments read, over the tree's scripts (built once per tree). */
const readIndexes = new WeakMap<KbuildTree, Map<string, string[]>>();

function readIndex(tree: KbuildTree): Map<string, string[]> {
  let index = readIndexes.get(tree);
  if (!index) {
    index = new Map();
    for (const statements of [...tree.prelude.map((p) => p.makefile.statements), tree.makefileLib?.statements ?? []]) {
      for (const { name, reads } of assignmentsOf(statements).values())
        index.set(name, [...(index.get(name) ?? []), ...reads]);
    }
    readIndexes.set(tree, index);
  }
  return index;
}

/** The statements make reads for a directory: the top-level scripts, the directory's Makefile, Makefile.lib (sliced to what matters). */
export function kbuildStatements(
  tree: KbuildTree,
  directory: Makefile,
  /** Make text the evaluation also expands (the built-in cmd_ld, ...): what it reads is needed too. */
  alsoExpanded: string[] = [],
): { statements: Statement[]; reads: Set<string> } {
  // What the flags formula and the directory read, and what those read in turn.
  const index = readIndex(tree);
  const needed = new Set<string>();
  const queue = ['c_flags', '_c_flags', ...readsOf(textOfReads(directory)), ...alsoExpanded.flatMap(readsOf)];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (needed.has(name)) continue;
    needed.add(name);
    for (const r of index.get(name) ?? []) if (!needed.has(r)) queue.push(r);
  }
  return {
    statements: [
      ...tree.prelude.flatMap((p) => slice(p.makefile.statements, needed)),
      ...directory.statements,
      ...slice(tree.makefileLib?.statements ?? [], needed),
    ],
    reads: needed,
  };
}

/** Make text of an expression, references written back as `$(...)` (for finding the names it reads). */
function exprText(e: Expr): string {
  return e
    .map((p) => {
      switch (p.kind) {
        case 'text':
          return p.text;
        case 'ref':
          return `$(${exprText(p.name)})`;
        case 'substRef':
          return `$(${exprText(p.name)}:${exprText(p.from)}=${exprText(p.to)})`;
        case 'call':
          return `$(${p.fn} ${p.args.map(exprText).join(',')})`;
      }
    })
    .join('');
}

/** The texts of a directory Makefile's statements that can read variables (for the slice's roots). */
function textOfReads(mf: Makefile): string {
  const parts: string[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind === 'assignment') parts.push(s.valueText, s.nameText);
    else if (s.kind === 'define') parts.push(s.bodyText);
    else if (s.kind === 'rule')
      parts.push(exprText(s.targets), exprText(s.prerequisites), ...s.recipe.map((r) => exprText(r.text)));
    else if (s.kind === 'include') parts.push(exprText(s.files));
    else if (s.kind === 'conditional') {
      for (const b of s.branches) {
        // ifdef NAME reads NAME itself.
        if (b.test)
          parts.push(
            ...b.test.args.map((a) =>
              b.test?.kind === 'ifdef' || b.test?.kind === 'ifndef' ? `$(${exprText(a)})` : exprText(a),
            ),
          );
      }
    }
  }
  return parts.join('\n');
}
