// Reads the rules of an evaluated make file the way make would run them: targets, prerequisites and
// the shell commands of each recipe, with Kbuild's `$(call if_changed,X)` / `$(call cmd,X)` read as
// running `cmd_X`. Plus what linker commands say about their output and script. Knows no rule.
import type { AssignmentStmt, DefineStmt, Expr, Makefile, RecipeLine, RuleStmt, Span, Statement } from '../make/ast';
import type { Evaluation } from '../make/evaluator';
import { splitWords } from '../make/values';
import { splitCommands, type SimpleCommand } from './shellCommands';

/** Kbuild macros that run `cmd_$(2)` (scripts/Kbuild.include). */
const RUNS_CMD = new Set(['if_changed', 'if_changed_dep', 'cmd', 'if_changed_except']);

export interface Command extends SimpleCommand {
  /** Where the command is written: the `cmd_X` definition it comes from, or the recipe line. */
  span: Span;
  /** The `cmd_X` definition, when the recipe ran it through if_changed/cmd. */
  definition?: AssignmentStmt | DefineStmt;
  rule: RuleStmt;
}

export interface MakeRule {
  rule: RuleStmt;
  targets: string[];
  prerequisites: string[];
  commands: Command[];
}

/** Every statement, including those inside conditionals, in file order. */
export function* allStatements(statements: Statement[]): Generator<Statement> {
  // An explicit stack, not yield* recursion: thousands of nested conditionals overflowed the stack.
  const stack: Statement[][] = [statements];
  const at: number[] = [0];
  while (stack.length > 0) {
    const top = stack.length - 1;
    const list = stack[top];
    if (at[top] >= list.length) {
      stack.pop();
      at.pop();
      continue;
    }
    const s = list[at[top]++];
    yield s;
    if (s.kind === 'conditional') {
      for (let b = s.branches.length - 1; b >= 0; b--) {
        stack.push(s.branches[b].body);
        at.push(0);
      }
    }
  }
}

export function normalizePath(p: string): string {
  let out = p.replace(/\/{2,}/g, '/');
  while (out.startsWith('./')) out = out.slice(2);
  return out.replace(/\/\.\//g, '/');
}

/** The live definition of a variable: the statement of its last recorded assignment. */
function definitionOf(ev: Evaluation, name: string): AssignmentStmt | DefineStmt | undefined {
  const def = ev.variables.get(name);
  if (!def || def.history.length === 0) return undefined;
  return def.history[def.history.length - 1].stmt;
}

function automaticVars(targets: string[], prerequisites: string[]): Record<string, string> {
  const target = targets[0] ?? '';
  const slash = target.lastIndexOf('/');
  return {
    '@': target,
    '<': prerequisites[0] ?? '',
    '^': [...new Set(prerequisites)].join(' '),
    '+': prerequisites.join(' '),
    '@F': target.slice(slash + 1),
    '@D': slash < 0 ? '.' : target.slice(0, slash),
    '*': '',
  };
}

function commandsOfRecipeLine(
  ev: Evaluation,
  line: RecipeLine,
  rule: RuleStmt,
  autos: Record<string, string>,
): Command[] {
  // Expand the line part by part so that a Kbuild `$(call if_changed,X)` can be read as `cmd_X`.
  const pieces: { text: string; span: Span; definition?: AssignmentStmt | DefineStmt }[] = [];
  let plain: Expr = [];
  const flush = () => {
    if (plain.length > 0) pieces.push({ text: ev.expand(plain, autos), span: line.span });
    plain = [];
  };
  for (const part of line.text) {
    if (part.kind === 'call' && part.fn === 'call' && part.args.length >= 2) {
      const macro = ev.expand(part.args[0], autos).trim();
      if (RUNS_CMD.has(macro)) {
        flush();
        const name = ev.expand(part.args[1], autos).trim();
        const definition = definitionOf(ev, `cmd_${name}`);
        pieces.push({ text: ev.expand(`$(cmd_${name})`, autos), span: definition?.span ?? line.span, definition });
        continue;
      }
    }
    plain.push(part);
  }
  flush();
  const out: Command[] = [];
  for (const piece of pieces) {
    for (const c of splitCommands(piece.text)) out.push({ ...c, span: piece.span, definition: piece.definition, rule });
  }
  return out;
}

/** The rules of the file that are live (or may be), with targets, prerequisites and commands expanded. */
export function readRules(mf: Makefile, ev: Evaluation): MakeRule[] {
  const rules: MakeRule[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind !== 'rule' || ev.liveness(s) === 'dead') continue;
    const targets = splitWords(ev.expand(s.targets)).map(normalizePath);
    if (targets.some((t) => t.includes('%'))) continue;
    const prerequisites = splitWords(ev.expand(s.prerequisites)).map(normalizePath);
    const autos = automaticVars(targets, prerequisites);
    const commands = s.recipe.flatMap((line) => commandsOfRecipeLine(ev, line, s, autos));
    rules.push({ rule: s, targets, prerequisites, commands });
  }
  return rules;
}

/** The stem of `file` under a pattern with one `%` (`a/%.so.dbg` and `a/vdso.so.dbg` -> `vdso`). */
function patternStem(pattern: string, file: string): string | undefined {
  const at = pattern.indexOf('%');
  if (at < 0 || pattern.indexOf('%', at + 1) >= 0) return undefined;
  const [pre, post] = [pattern.slice(0, at), pattern.slice(at + 1)];
  if (file.length <= pre.length + post.length || !file.startsWith(pre) || !file.endsWith(post)) return undefined;
  return file.slice(pre.length, file.length - post.length);
}

/**
 * The pattern rules of the file that would make something from `file` (it matches their first
 * prerequisite), instantiated as make would: targets and prerequisites with the stem, and their
 * commands expanded with those as `$@`, `$<` and `$^`.
 */
export function patternRulesFrom(mf: Makefile, ev: Evaluation, file: string): MakeRule[] {
  const rules: MakeRule[] = [];
  for (const s of allStatements(mf.statements)) {
    if (s.kind !== 'rule' || s.recipe.length === 0 || ev.liveness(s) === 'dead') continue;
    const targetPatterns = splitWords(ev.expand(s.targets)).map(normalizePath);
    const prerequisitePatterns = splitWords(ev.expand(s.prerequisites)).map(normalizePath);
    if (!targetPatterns.every((t) => t.includes('%')) || !prerequisitePatterns[0]?.includes('%')) continue;
    const stem = patternStem(prerequisitePatterns[0], file);
    if (stem === undefined) continue;
    const targets = targetPatterns.map((t) => t.replace('%', stem));
    const prerequisites = prerequisitePatterns.map((p) => p.replace('%', stem));
    const autos = { ...automaticVars(targets, prerequisites), '*': stem };
    const commands = s.recipe.flatMap((line) => commandsOfRecipeLine(ev, line, s, autos));
    rules.push({ rule: s, targets, prerequisites, commands });
  }
  return rules;
}

/** The rule that makes `file`, if the rules have one. */
export function producerOf(rules: readonly MakeRule[], file: string): MakeRule | undefined {
  return rules.find((r) => r.targets.includes(file));
}

/** Output file of a linker command (`-o FILE` or `-oFILE`). */
export function linkerOutput(c: SimpleCommand): string | undefined {
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i];
    if (a === '-o' || a === '--output') return c.args[i + 1];
    if (a.startsWith('--output=')) return a.slice('--output='.length);
    if (a.startsWith('-o') && a.length > 2) return a.slice(2);
  }
  return undefined;
}

/** Linker script of a linker command (`-T FILE`, `-TFILE`, `--script[=]FILE`). */
export function linkerScriptOf(c: SimpleCommand): string | undefined {
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i];
    if (a === '-T' || a === '--script') return c.args[i + 1];
    if (a.startsWith('--script=')) return a.slice('--script='.length);
    if (
      a.startsWith('-T') &&
      a.length > 2 &&
      !a.startsWith('-Ttext') &&
      !a.startsWith('-Tdata') &&
      !a.startsWith('-Tbss')
    )
      return a.slice(2);
  }
  return undefined;
}
