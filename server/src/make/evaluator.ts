// GNU make evaluator over the AST: variables with flavors, conditionals, functions, $(call), $(eval).
// It never runs a shell, never reads the disk, never throws and never hangs:
//  - $(shell), `!=`, $(wildcard), $(realpath), $(file), $(guile) yield symbolic unknowns (values.ts);
//  - a variable that is never set in the file (and not given in `initial`) expands to an unknown
//    labelled with its name, because it comes from the including Makefile or the environment
//    (`undefinedIsEmpty: true` gives plain make semantics instead); a variable the file sets
//    somewhere but has not set yet expands to empty, as in make;
//  - `+=` to a variable that is not defined yet keeps an unknown base (⟨NAME⟩ words) for the same reason;
//  - includes are not followed;
//  - recursion depth, expansion length and steps are bounded (EvalLimits); hitting a bound gives a
//    diagnostic and an unknown value. Steps are counted per statement (and per expand() call) and for
//    the whole evaluation; string work counts too (a function's argument of N characters costs
//    N / charsPerStep steps, $(filter) patterns × words, $(sort) n log n), so a long value is not
//    "one step". Any bound hit marks the evaluation `incomplete` (callers must not claim "clean").
// Unknown-pattern rules for filter/filter-out/patsubst/subst are documented in functions.ts.

import type {
  AssignOp,
  AssignmentStmt,
  ConditionalBranch,
  ConditionTest,
  DefineStmt,
  Expr,
  Makefile,
  Modifier,
  ParseDiagnostic,
  Span,
  Statement,
} from './ast';
import {
  absPath,
  basenameOf,
  dirOf,
  filterWords,
  joinWords,
  notdirOf,
  patsubst,
  sortWords,
  subst,
  substRef,
  suffixOf,
} from './functions';
import { MAKE_FUNCTIONS, parseExprText, parseMakefile, walkStatements } from './parser';
import {
  displayValue,
  isUnknownWord,
  knownPrefix,
  knownSuffix,
  splitWords,
  unknownValue,
  UNKNOWN_OPEN,
  withoutUnknowns,
} from './values';
import { errorText } from '../common/errors';

export interface AssignmentRecord {
  stmt: AssignmentStmt | DefineStmt;
  /** Expanded value before the statement (computed lazily in the state of that moment). */
  valueBefore: string;
  /** Expanded value after the statement. */
  valueAfter: string;
  /** 0-based line of the file statement that made the assignment (the `$(eval)` line for eval'd text). */
  line?: number;
  /** True when the assignment had no effect (an `override` variable, or `?=` on a defined one). */
  ignored?: boolean;
}
export interface VariableDef {
  name: string;
  flavor: 'recursive' | 'simple';
  /** recursive: unexpanded text; simple: expanded. */
  value: string;
  origin: 'file' | 'initial';
  history: AssignmentRecord[];
}
export interface EvalLimits {
  maxDepth: number;
  maxExpansionLength: number;
  maxSteps: number;
  maxTotalSteps: number;
  /** Characters of a function argument that count as one step (string work is bounded too). */
  charsPerStep: number;
}
export const DEFAULT_LIMITS: EvalLimits = {
  /** Nested variable expansions, $(call)s and $(eval)s. */
  maxDepth: 100,
  /** Characters in one expansion result. */
  maxExpansionLength: 4_000_000,
  /** Expansion steps (parts, function calls, loop iterations) per statement or expand() call. */
  maxSteps: 1_000_000,
  /**
   * Expansion steps for the whole evaluation (the file plus later expand() calls): about a second of
   * work. Without it, many lines each just under maxSteps could hold the server for a minute.
   */
  maxTotalSteps: 10_000_000,
  /**
   * Splitting, filtering or sorting a value of N characters costs about N / 2 steps' time (1-character
   * words are the worst case; measured: a recursive $(call) doubling its argument to 4 MB took 600 ms
   * per line before this was counted, and 1 step is about 0.1 µs).
   */
  charsPerStep: 2,
};

/** Why an evaluation is incomplete (the first bound that was hit). */
export interface EvalIncomplete {
  reason: 'maxDepth' | 'maxExpansionLength' | 'maxSteps' | 'maxTotalSteps' | 'stack' | 'error';
  message: string;
  /** Where (the statement being evaluated; for later expand() calls, the last statement). */
  span: Span;
  /** How many times a bound was hit (the file and later expand() calls). */
  hits: number;
}
/**
 * An initial variable: a value (simple), or a value with its flavor; `commandLine` makes it a
 * variable of make's command line, which the file's assignments do not change (unless `override`).
 */
type InitialValue = string | { value: string; flavor: 'simple' | 'recursive'; commandLine?: boolean };

/**
 * Initial variables prepared once and shared, read-only, by many evaluations (a tree's thousands of
 * CONFIG_ values): an evaluation then costs what its file does, not what the configuration holds.
 * It behaves as the same names given in `initial`, except that a name in both is the layer's.
 */
export interface InitialLayer {
  readonly defs: ReadonlyMap<string, Def>;
  readonly variables: ReadonlyMap<string, VariableDef>;
}

export function initialLayer(values: Record<string, InitialValue>): InitialLayer {
  const defs = new Map<string, Def>();
  const variables = new Map<string, VariableDef>();
  for (const [name, v] of Object.entries(values)) {
    const def = initialDef(v);
    defs.set(name, def);
    variables.set(
      name,
      Object.freeze({
        name,
        flavor: def.flavor,
        value: def.value,
        origin: 'initial',
        history: Object.freeze([]) as unknown as AssignmentRecord[],
      }),
    );
  }
  return { defs, variables };
}

function initialDef(v: InitialValue): Def {
  return typeof v === 'string'
    ? { flavor: 'simple', value: v, origin: 'initial', override: false }
    : { flavor: v.flavor, value: v.value, origin: 'initial', override: v.commandLine === true };
}

export interface EvalOptions {
  initial?: Record<string, InitialValue>;
  /** Shared initial variables (see InitialLayer); they win over `initial` for the same name. */
  layer?: InitialLayer;
  unknownConditions?: 'true' | 'false';
  limits?: Partial<EvalLimits>;
  /** Plain make semantics: every undefined variable expands to empty (default false). */
  undefinedIsEmpty?: boolean;
  /**
   * `$(call NAME,...)` answered by the caller (a model of what a variable means, e.g. a probe that
   * would run a shell). The hook gets the expanded arguments and the variable's definition (undefined
   * when unset); it returns undefined to let the definition expand as usual.
   */
  callHooks?: ReadonlyMap<string, CallHook>;
}
export type CallHook = (args: readonly string[], definition: string | undefined) => string | undefined;
export interface EvalMessage {
  kind: 'info' | 'warning' | 'error';
  text: string;
  span: Span;
}
export interface Evaluation {
  variables: Map<string, VariableDef>;
  expand(text: string | Expr, extra?: Record<string, string>): string;
  valueAt(name: string, line: number): string | undefined;
  liveness(stmt: Statement): 'live' | 'dead' | 'unknown';
  /**
   * Whether make takes a branch of a file-level conditional: 'live' taken, 'dead' not taken (decided),
   * 'unknown' when its condition or an enclosing one cannot be decided (branches inside a branch
   * share its state).
   */
  branchLiveness(branch: ConditionalBranch): 'live' | 'dead' | 'unknown';
  unknownConditionals: ConditionTest[];
  diagnostics: ParseDiagnostic[];
  /** $(info)/$(warning)/$(error) output met while evaluating (addition). */
  messages: EvalMessage[];
  /**
   * Set when a bound was hit, while evaluating the file or in a later expand()/valueAt(): some values
   * are ⟨limit⟩ unknowns, so a result that depends on them is not a clean bill of health.
   * Undefined when the evaluation was complete (so far).
   */
  readonly incomplete: EvalIncomplete | undefined;
}

type Liveness = 'live' | 'dead' | 'unknown';
interface Def {
  flavor: 'recursive' | 'simple';
  value: string;
  origin: 'file' | 'initial';
  override: boolean;
}
interface Version {
  seq: number;
  def: Def | null;
}
interface Frame {
  vars: Map<string, string>;
  isCall: boolean;
  parent: Frame | null;
}
interface Ctx {
  at: number;
  pure: boolean;
  extra: Record<string, string> | null;
  frame: Frame | null;
  depth: number;
  steps: number;
  expanding: Set<string>;
}

class LimitError extends Error {
  constructor(
    message: string,
    readonly bound: EvalIncomplete['reason'],
  ) {
    // No stack trace: it is never shown, and capturing one at depth costs ~60 µs per throw, which
    // made every statement after a spent budget slow (57,000 lines: 3.4 s).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

const AUTO_BASE = new Set(['@', '<', '^', '+', '*', '?', '|', '%']);

class AssignmentRecordImpl implements AssignmentRecord {
  private before?: string;
  private after?: string;
  constructor(
    private readonly ev: Evaluator,
    readonly stmt: AssignmentStmt | DefineStmt,
    readonly name: string,
    readonly seq: number,
    readonly line: number,
    readonly ignored: boolean,
  ) {}
  get valueBefore(): string {
    if (this.before === undefined)
      this.before =
        this.ev.valueAtSeq(this.name, this.seq - 1) ??
        (this.ev.isFileOwned(this.name) ? '' : this.ev.undefinedValue(this.name));
    return this.before;
  }
  get valueAfter(): string {
    if (this.after === undefined) this.after = this.ev.valueAtSeq(this.name, this.seq) ?? '';
    return this.after;
  }
}

/** Expands argument i of a function call (empty when absent). */
type Arg = (i: number) => string;
/** One built-in function: `x` expands its arguments, `c` is the expansion context. */
type Builtin = (this: Evaluator, x: Arg, c: Ctx, args: readonly Expr[], fn: string) => string;

const strip = (s: string): string => splitWords(s).join(' ');
function perWord(s: string, f: (w: string) => string | null): string {
  const out: string[] = [];
  for (const w of splitWords(s)) {
    const r = f(w);
    if (r !== null) out.push(r);
  }
  return out.join(' ');
}

class Evaluator {
  readonly limits: EvalLimits;
  private readonly vars = new Map<string, Version[]>();
  private readonly records = new Map<string, AssignmentRecordImpl[]>();
  private seq = 0;
  private readonly lineSeq: { line: number; seq: number }[] = [];
  private readonly live = new Map<Statement, Liveness>();
  private readonly branchLive = new Map<ConditionalBranch, Liveness>();
  readonly unknownConditionals: ConditionTest[] = [];
  readonly diagnostics: ParseDiagnostic[];
  private readonly diagKeys = new Set<string>();
  readonly messages: EvalMessage[] = [];
  private readonly fileOwned = new Set<string>();
  private readonly everDefined = new Set<string>();
  private readonly layer: InitialLayer | undefined;
  private readonly uncertain = new Set<string>();
  private readonly parseCache = new Map<string, Expr>();
  private readonly undefinedIsEmpty: boolean;
  private readonly unknownTrue: boolean;
  private readonly callHooks: ReadonlyMap<string, CallHook> | undefined;
  private curSpan: Span = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  private curLine = 0;
  private evalDepth = 0;
  incomplete: EvalIncomplete | undefined;

  private noteIncomplete(reason: EvalIncomplete['reason'], message: string): void {
    if (this.incomplete) this.incomplete.hits++;
    else this.incomplete = { reason, message, span: this.curSpan, hits: 1 };
  }

  constructor(
    private readonly mf: Makefile,
    opts: EvalOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.undefinedIsEmpty = opts.undefinedIsEmpty === true;
    this.unknownTrue = opts.unknownConditions === 'true';
    this.callHooks = opts.callHooks;
    this.diagnostics = [];
    this.layer = opts.layer;
    for (const [name, v] of Object.entries(opts.initial ?? {})) {
      if (this.layer?.defs.has(name)) continue;
      this.vars.set(name, [{ seq: 0, def: initialDef(v) }]);
      this.everDefined.add(name);
    }
    // A variable is the file's own when its first assignment (in document order) is not `+=` and
    // does not read the variable itself (`X := $(filter-out a,$(X))` reads an outside value).
    const seen = new Set<string>();
    walkStatements(mf.statements, (s) => {
      if ((s.kind === 'assignment' && !s.targets) || s.kind === 'define') {
        const name = s.nameText.trim();
        if (name.includes('$') || seen.has(name)) return;
        seen.add(name);
        const text = s.kind === 'define' ? s.bodyText : s.valueText;
        const selfRef = text.includes(`$(${name})`) || text.includes(`\${${name}}`);
        if ((s.kind === 'define' || s.op !== '+=') && !selfRef) this.fileOwned.add(name);
      }
    });
  }

  // ---- diagnostics -------------------------------------------------------------------------
  diag(severity: 'error' | 'warning', message: string, span: Span = this.curSpan): void {
    const key = `${severity}|${message}|${span.start.line}:${span.start.character}`;
    if (this.diagKeys.has(key) || this.diagnostics.length > 2000) return;
    this.diagKeys.add(key);
    this.diagnostics.push({ severity, message, span });
  }

  // ---- variable state ----------------------------------------------------------------------
  /** Defined at some point: by the file or initially (layer names are defined from the start). */
  private wasEverDefined(name: string): boolean {
    return this.everDefined.has(name) || (this.layer?.defs.has(name) ?? false);
  }

  lookup(name: string, at: number): Def | null {
    const arr = this.vars.get(name);
    if (!arr) return this.layer?.defs.get(name) ?? null;
    if (arr.length === 0) return null;
    if (at === Infinity || arr[arr.length - 1].seq <= at) return arr[arr.length - 1].def;
    let lo = 0;
    let hi = arr.length - 1;
    if (arr[0].seq > at) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (arr[mid].seq <= at) lo = mid;
      else hi = mid - 1;
    }
    return arr[lo].def;
  }

  isFileOwned(name: string): boolean {
    return this.fileOwned.has(name) || this.wasEverDefined(name);
  }

  /** The value of a variable that is not defined: empty, or unknown when it comes from outside. */
  undefinedValue(name: string): string {
    if (this.undefinedIsEmpty) return '';
    if (this.uncertain.has(name)) return unknownValue(name);
    if (this.isFileOwned(name)) return '';
    return unknownValue(name);
  }
  private undefinedIsKnownEmpty(name: string): boolean {
    return this.undefinedIsEmpty || (!this.uncertain.has(name) && this.isFileOwned(name));
  }

  private setVar(name: string, def: Def | null, stmt: AssignmentStmt | DefineStmt | null, ignored = false): void {
    const seq = ++this.seq;
    if (!ignored) {
      let arr = this.vars.get(name);
      if (!arr) {
        // A layer name's history starts with its initial value, as if it were in `initial`.
        const initial = this.layer?.defs.get(name);
        this.vars.set(name, (arr = initial ? [{ seq: 0, def: initial }] : []));
      }
      arr.push({ seq, def });
      if (def) this.everDefined.add(name);
    }
    this.lineSeq.push({ line: this.curLine, seq });
    if (stmt) {
      let r = this.records.get(name);
      if (!r) this.records.set(name, (r = []));
      r.push(new AssignmentRecordImpl(this, stmt, name, seq, this.curLine, ignored));
    }
  }

  valueAtSeq(name: string, seq: number): string | undefined {
    const def = this.lookup(name, seq);
    if (!def) return undefined;
    if (def.flavor === 'simple') return def.value;
    return this.topExpand(this.parse(def.value), { at: seq, pure: true, extra: null }, true);
  }

  valueAt(name: string, line: number): string | undefined {
    const ls = this.lineSeq;
    let lo = 0;
    let hi = ls.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ls[mid].line < line) lo = mid + 1;
      else hi = mid;
    }
    const seq = lo === 0 ? 0 : ls[lo - 1].seq;
    return this.valueAtSeq(name, seq);
  }

  parse(text: string): Expr {
    let e = this.parseCache.get(text);
    if (!e) {
      e = parseExprText(text);
      if (this.parseCache.size > 50_000) this.parseCache.clear();
      this.parseCache.set(text, e);
    }
    return e;
  }

  // ---- expansion ---------------------------------------------------------------------------
  /** Expands with fresh step counting; a limit hit gives a diagnostic and an unknown value. */
  topExpand(e: Expr, o: { at: number; pure: boolean; extra: Record<string, string> | null }, quiet = false): string {
    if (e.length === 1 && e[0].kind === 'text') return e[0].text;
    if (this.budgetReported && e.length > 0) {
      // The file-wide budget is spent: every expansion would stop at its first step.
      if (this.incomplete) this.incomplete.hits++;
      return unknownValue('limit');
    }
    const c: Ctx = { at: o.at, pure: o.pure, extra: o.extra, frame: null, depth: 0, steps: 0, expanding: new Set() };
    try {
      return this.expandExpr(e, c);
    } catch (err) {
      if (err instanceof LimitError) {
        this.noteIncomplete(err.bound, err.message);
        // The file-wide budget is reported once; every later expansion would hit it again.
        const budget = this.totalSteps > this.limits.maxTotalSteps;
        if (!quiet && (!budget || !this.budgetReported)) this.diag('warning', err.message);
        if (budget) this.budgetReported = true;
        return unknownValue('limit');
      }
      if (err instanceof RangeError) {
        this.noteIncomplete('stack', `Expansion aborted: ${err.message}`);
        if (!quiet) this.diag('warning', `Expansion aborted: ${err.message}`);
        return unknownValue('limit');
      }
      throw err;
    }
  }

  /** Steps taken by the whole evaluation so far (see maxTotalSteps). */
  private totalSteps = 0;
  private budgetReported = false;

  private step(c: Ctx, n = 1): void {
    c.steps += n;
    this.totalSteps += n;
    if (c.steps > this.limits.maxSteps)
      throw new LimitError(`Expansion limit hit: more than ${this.limits.maxSteps} steps (maxSteps)`, 'maxSteps');
    if (this.totalSteps > this.limits.maxTotalSteps)
      throw new LimitError(
        `Evaluation budget spent: more than ${this.limits.maxTotalSteps} expansion steps in this file (maxTotalSteps); later values are unknown`,
        'maxTotalSteps',
      );
  }
  /**
   * Counts string work on a value of `len` characters against the file's budget (maxTotalSteps) only:
   * a single statement may handle a value up to maxExpansionLength, but a file cannot do it for
   * ever. Short values are free (they are counted as parts).
   */
  private work(c: Ctx, len: number): void {
    if (len < 256) return;
    const n = Math.floor(len / this.limits.charsPerStep);
    this.totalSteps += n;
    this.step(c, 0);
  }
  private checkLen(s: string): string {
    if (s.length > this.limits.maxExpansionLength)
      throw new LimitError(
        `Expansion limit hit: value longer than ${this.limits.maxExpansionLength} characters (maxExpansionLength)`,
        'maxExpansionLength',
      );
    return s;
  }

  expandExpr(e: Expr, c: Ctx): string {
    if (e.length === 1 && e[0].kind === 'text') return e[0].text;
    let out = '';
    for (const p of e) {
      this.step(c);
      switch (p.kind) {
        case 'text':
          out += p.text;
          break;
        case 'ref':
          out += this.refValue(this.expandExpr(p.name, c), c);
          break;
        case 'substRef': {
          const v = this.refValue(this.expandExpr(p.name, c), c);
          out += substRef(v, this.expandExpr(p.from, c), this.expandExpr(p.to, c));
          break;
        }
        case 'call':
          out += this.callFunction(p.fn, p.args, c);
          break;
      }
      if (out.length > this.limits.maxExpansionLength) this.checkLen(out);
    }
    return out;
  }

  private localValue(name: string, c: Ctx): string | undefined {
    for (let f = c.frame; f; f = f.parent) {
      const v = f.vars.get(name);
      if (v !== undefined) return v;
      if (f.isCall && /^[0-9]+$/.test(name)) return '';
    }
    if (c.extra) {
      const x = c.extra[name];
      if (x !== undefined) return x;
      if (name.length === 2 && AUTO_BASE.has(name[0]) && (name[1] === 'D' || name[1] === 'F')) {
        const base = c.extra[name[0]];
        if (base !== undefined) {
          const ws = splitWords(base);
          return ws.map((w) => (name[1] === 'D' ? dirOf(w).replace(/(.)\/$/, '$1') : notdirOf(w))).join(' ');
        }
      }
    }
    return undefined;
  }

  private refValue(name: string, c: Ctx): string {
    if (isUnknownWord(name)) return unknownValue(displayValue(name));
    const local = this.localValue(name, c);
    if (local !== undefined) return local;
    const def = this.lookup(name, c.at);
    if (!def) return this.undefinedValue(name);
    if (def.flavor === 'simple') return def.value;
    if (c.expanding.has(name)) {
      this.diag('error', `Recursive variable '${name}' references itself (eventually)`);
      return unknownValue(name);
    }
    return this.expandBody(name, def.value, c, true);
  }

  private expandBody(name: string, text: string, c: Ctx, guard: boolean): string {
    if (c.depth >= this.limits.maxDepth)
      throw new LimitError(
        `Expansion limit hit: nesting deeper than ${this.limits.maxDepth} while expanding '${name}' (maxDepth)`,
        'maxDepth',
      );
    c.depth++;
    if (guard) c.expanding.add(name);
    try {
      return this.expandExpr(this.parse(text), c);
    } finally {
      c.depth--;
      if (guard) c.expanding.delete(name);
    }
  }

  private withFrame<T>(c: Ctx, vars: Map<string, string>, isCall: boolean, fn: () => T): T {
    const saved = c.frame;
    c.frame = { vars, isCall, parent: saved };
    try {
      return fn();
    } finally {
      c.frame = saved;
    }
  }

  /**
   * GNU make's built-in functions by name, as function.c's function_table: each takes its arguments
   * unexpanded (`x(i)` expands argument i, counting its length as work) and answers the expansion.
   * A name the parser knows (parser.ts MAKE_FUNCTIONS) but this table does not expands to an unknown.
   */
  private static readonly builtins: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
    ['subst', Evaluator.prototype.fnSubst],
    ['patsubst', Evaluator.prototype.fnPatsubst],
    ['strip', Evaluator.prototype.fnStrip],
    ['findstring', Evaluator.prototype.fnFindstring],
    ['filter', Evaluator.prototype.fnFilter],
    ['filter-out', Evaluator.prototype.fnFilter],
    ['sort', Evaluator.prototype.fnSort],
    ['word', Evaluator.prototype.fnWord],
    ['wordlist', Evaluator.prototype.fnWordlist],
    ['words', Evaluator.prototype.fnWords],
    ['firstword', Evaluator.prototype.fnFirstword],
    ['lastword', Evaluator.prototype.fnLastword],
    ['dir', Evaluator.prototype.fnDir],
    ['notdir', Evaluator.prototype.fnNotdir],
    ['suffix', Evaluator.prototype.fnSuffix],
    ['basename', Evaluator.prototype.fnBasename],
    ['addsuffix', Evaluator.prototype.fnAddsuffix],
    ['addprefix', Evaluator.prototype.fnAddprefix],
    ['join', Evaluator.prototype.fnJoin],
    ['abspath', Evaluator.prototype.fnAbspath],
    ['realpath', Evaluator.prototype.fnPathQuery],
    ['wildcard', Evaluator.prototype.fnPathQuery],
    ['shell', Evaluator.prototype.fnNeverRun],
    ['file', Evaluator.prototype.fnNeverRun],
    ['guile', Evaluator.prototype.fnNeverRun],
    ['foreach', Evaluator.prototype.fnForeach],
    ['let', Evaluator.prototype.fnLet],
    ['if', Evaluator.prototype.fnIf],
    ['or', Evaluator.prototype.fnOr],
    ['and', Evaluator.prototype.fnAnd],
    ['intcmp', Evaluator.prototype.fnIntcmp],
    ['call', Evaluator.prototype.fnCall],
    ['value', Evaluator.prototype.fnValue],
    ['origin', Evaluator.prototype.fnOriginOrFlavor],
    ['flavor', Evaluator.prototype.fnOriginOrFlavor],
    ['error', Evaluator.prototype.fnMessage],
    ['warning', Evaluator.prototype.fnMessage],
    ['info', Evaluator.prototype.fnMessage],
    ['eval', Evaluator.prototype.fnEval],
  ]);

  private callFunction(fn: string, args: readonly Expr[], c: Ctx): string {
    const builtin = Evaluator.builtins.get(fn);
    if (!builtin) return unknownValue(fn);
    const x = (i: number): string => {
      if (!args[i]) return '';
      const v = this.expandExpr(args[i], c);
      this.work(c, v.length);
      return v;
    };
    return builtin.call(this, x, c, args, fn);
  }

  private fnSubst(x: Arg): string {
    return this.checkLen(subst(x(0), x(1), x(2)));
  }

  private fnPatsubst(x: Arg): string {
    return patsubst(x(0), x(1), x(2));
  }

  private fnStrip(x: Arg): string {
    return strip(x(0));
  }

  private fnFindstring(x: Arg): string {
    const f = x(0);
    const t = x(1);
    if (!isUnknownWord(f) && t.includes(f)) return f;
    if (isUnknownWord(f) || isUnknownWord(t)) return unknownValue('findstring');
    return '';
  }

  private fnFilter(x: Arg, c: Ctx, _args: readonly Expr[], fn: string): string {
    return filterWords(x(0), x(1), fn === 'filter-out', (pairs) => this.work(c, pairs >> 3));
  }

  private fnSort(x: Arg, c: Ctx): string {
    const v = x(0);
    // n log n comparisons on top of the split counted by x().
    if (v.length >= 256) this.work(c, (v.length * Math.ceil(Math.log2(v.length))) >> 2);
    return sortWords(v);
  }

  private fnWord(x: Arg): string {
    const n = strip(x(0));
    const ws = splitWords(x(1));
    if (isUnknownWord(n)) return unknownValue('word');
    const k = Number(n);
    if (!/^[0-9]+$/.test(n) || k < 1) {
      this.diag('error', `non-numeric or zero first argument to 'word' function: '${displayValue(n)}'`);
      return '';
    }
    for (let i = 0; i < Math.min(k, ws.length); i++) if (isUnknownWord(ws[i])) return unknownValue('word');
    if (k > ws.length) return ws.some(isUnknownWord) ? unknownValue('word') : '';
    return ws[k - 1];
  }

  private fnWordlist(x: Arg): string {
    const s = strip(x(0));
    const e = strip(x(1));
    const ws = splitWords(x(2));
    if (isUnknownWord(s) || isUnknownWord(e)) return unknownValue('wordlist');
    const a = Number(s);
    const b = Number(e);
    if (!/^[0-9]+$/.test(s) || !/^[0-9]+$/.test(e) || a < 1) {
      this.diag('error', `invalid arguments to 'wordlist' function: '${s}', '${e}'`);
      return '';
    }
    if (ws.slice(0, Math.min(b, ws.length)).some(isUnknownWord)) return unknownValue('wordlist');
    return ws.slice(a - 1, b).join(' ');
  }

  private fnWords(x: Arg): string {
    const ws = splitWords(x(0));
    return ws.some(isUnknownWord) ? unknownValue('words') : String(ws.length);
  }

  private fnFirstword(x: Arg): string {
    return splitWords(x(0))[0] ?? '';
  }

  private fnLastword(x: Arg): string {
    const ws = splitWords(x(0));
    return ws[ws.length - 1] ?? '';
  }

  private fnDir(x: Arg): string {
    return perWord(x(0), dirOf);
  }

  private fnNotdir(x: Arg): string {
    return perWord(x(0), notdirOf);
  }

  private fnSuffix(x: Arg): string {
    return perWord(x(0), suffixOf);
  }

  private fnBasename(x: Arg): string {
    return perWord(x(0), basenameOf);
  }

  private fnAddsuffix(x: Arg): string {
    const s = x(0);
    return perWord(x(1), (w) => w + s);
  }

  private fnAddprefix(x: Arg): string {
    const s = x(0);
    return perWord(x(1), (w) => s + w);
  }

  private fnJoin(x: Arg): string {
    return joinWords(x(0), x(1));
  }

  private fnAbspath(x: Arg): string {
    return perWord(x(0), (w) => (w.startsWith('/') && !isUnknownWord(w) ? absPath(w) : unknownValue('abspath')));
  }

  private fnPathQuery(x: Arg, _c: Ctx, _args: readonly Expr[], fn: string): string {
    const a = x(0);
    return splitWords(a).length === 0 ? '' : unknownValue(fn);
  }

  private fnNeverRun(_x: Arg, _c: Ctx, _args: readonly Expr[], fn: string): string {
    // Never executed, never read.
    return unknownValue(fn);
  }

  private fnForeach(x: Arg, c: Ctx, args: readonly Expr[]): string {
    const v = strip(x(0));
    const ws = splitWords(x(1));
    const out: string[] = [];
    let len = 0;
    for (const w of ws) {
      this.step(c);
      const r = this.withFrame(c, new Map([[v, w]]), false, () => this.expandExpr(args[2] ?? [], c));
      out.push(r);
      len += r.length + 1;
      if (len > this.limits.maxExpansionLength) this.checkLen('x'.repeat(this.limits.maxExpansionLength + 1));
    }
    return out.join(' ');
  }

  private fnLet(x: Arg, c: Ctx, args: readonly Expr[]): string {
    const names = splitWords(x(0));
    const ws = splitWords(x(1));
    const m = new Map<string, string>();
    names.forEach((n, i) => m.set(n, i === names.length - 1 ? ws.slice(i).join(' ') : (ws[i] ?? '')));
    return this.withFrame(c, m, false, () => this.expandExpr(args[2] ?? [], c));
  }

  private fnIf(x: Arg): string {
    const cond = strip(x(0));
    const t = truth(cond);
    if (t === 'unknown') return unknownValue('if');
    return t ? x(1) : x(2);
  }

  private fnOr(x: Arg, _c: Ctx, args: readonly Expr[]): string {
    for (let i = 0; i < args.length; i++) {
      const v = strip(x(i));
      const t = truth(v);
      if (t === 'unknown') return unknownValue('or');
      if (t) return v;
    }
    return '';
  }

  private fnAnd(x: Arg, _c: Ctx, args: readonly Expr[]): string {
    let v = '';
    let unsure = false;
    for (let i = 0; i < args.length; i++) {
      v = strip(x(i));
      const t = truth(v);
      if (t === false) return '';
      if (t === 'unknown') unsure = true;
    }
    return unsure ? unknownValue('and') : v;
  }

  private fnIntcmp(x: Arg, _c: Ctx, args: readonly Expr[]): string {
    const a = strip(x(0));
    const b = strip(x(1));
    if (isUnknownWord(a) || isUnknownWord(b)) return unknownValue('intcmp');
    const d = Number(a) - Number(b);
    if (Number.isNaN(d)) return '';
    if (args.length <= 2) return d === 0 ? a : '';
    if (d < 0) return x(2);
    if (d === 0) return args.length > 3 ? x(3) : x(2);
    return args.length > 4 ? x(4) : args.length > 3 ? x(3) : x(2);
  }

  private fnCall(x: Arg, c: Ctx, args: readonly Expr[]): string {
    const name = strip(x(0));
    if (isUnknownWord(name)) return unknownValue('call');
    const vals = new Map<string, string>([['0', name]]);
    for (let i = 1; i < args.length; i++) vals.set(String(i), x(i));
    if (MAKE_FUNCTIONS.has(name) && name !== 'call') {
      return this.withFrame(c, vals, true, () => this.callFunction(name, args.slice(1), c));
    }
    const def = this.lookup(name, c.at);
    const hooked = this.callHooks?.get(name)?.([...vals.values()].slice(1), def?.value);
    if (hooked !== undefined) return hooked;
    if (!def) return this.undefinedValue(name);
    if (def.flavor === 'simple') return def.value;
    return this.withFrame(c, vals, true, () => this.expandBody(name, def.value, c, false));
  }

  private fnValue(x: Arg, c: Ctx): string {
    const name = strip(x(0));
    const def = this.lookup(name, c.at);
    return def ? def.value : this.undefinedValue(name);
  }

  private fnOriginOrFlavor(x: Arg, c: Ctx, _args: readonly Expr[], fn: string): string {
    const name = strip(x(0));
    if (isUnknownWord(name)) return unknownValue(fn);
    if (this.localValue(name, c) !== undefined) return fn === 'origin' ? 'automatic' : 'simple';
    const def = this.lookup(name, c.at);
    if (def)
      return fn === 'flavor'
        ? def.flavor
        : def.origin === 'file'
          ? def.override
            ? 'override'
            : 'file'
          : def.override
            ? 'command line'
            : 'environment';
    return this.undefinedIsKnownEmpty(name) ? 'undefined' : unknownValue(`${fn}-${name}`);
  }

  private fnMessage(x: Arg, c: Ctx, _args: readonly Expr[], fn: string): string {
    const text = x(0);
    if (!c.pure) {
      // The table binds this to error, warning and info only.
      this.messages.push({ kind: fn as EvalMessage['kind'], text, span: this.curSpan });
      if (fn !== 'info') this.diag(fn === 'error' ? 'error' : 'warning', `$(${fn}) ${displayValue(text)}`);
    }
    return '';
  }

  private fnEval(x: Arg, c: Ctx): string {
    const text = x(0);
    if (!c.pure) this.evalText(text, c);
    return '';
  }

  private evalText(text: string, c: Ctx): void {
    if (this.evalDepth >= this.limits.maxDepth || c.depth >= this.limits.maxDepth)
      throw new LimitError(
        `Expansion limit hit: $(eval) nested deeper than ${this.limits.maxDepth} (maxDepth)`,
        'maxDepth',
      );
    this.step(c, 1 + (text.length >> 6));
    const mf = parseMakefile(text);
    this.evalDepth++;
    try {
      this.run(mf.statements, 'live', false);
    } finally {
      this.evalDepth--;
    }
  }

  // ---- statements --------------------------------------------------------------------------
  private expandStmt(e: Expr, pure = false): string {
    return this.topExpand(e, { at: Infinity, pure, extra: null });
  }

  run(stmts: Statement[], mode: Liveness, top: boolean): void {
    for (const s of stmts) {
      if (top) {
        this.live.set(s, mode);
        if (this.evalDepth === 0) {
          this.curSpan = s.span;
          this.curLine = s.span.start.line;
        }
      }
      switch (s.kind) {
        case 'assignment':
          if (!s.targets) this.assign(s, s.op, s.modifiers, s.name, s.value, s.valueText);
          break;
        case 'define':
          this.assign(s, s.op, s.modifiers, s.name, s.body, s.bodyText);
          break;
        case 'conditional':
          this.runConditional(s, mode, top);
          break;
        case 'rule':
          // make expands targets and prerequisites immediately (side effects such as $(eval) happen).
          this.expandStmt(s.targets);
          this.expandStmt(s.prerequisites);
          break;
        case 'expression':
          this.expandStmt(s.expr);
          break;
        case 'directive':
          if (s.directive === 'undefine') {
            for (const n of splitWords(this.expandStmt(s.args))) this.setVar(n, null, null);
          }
          break;
        default:
          break;
      }
    }
  }

  private mark(stmts: Statement[], l: Liveness): void {
    walkStatements(stmts, (s) => {
      this.live.set(s, l);
      // Inner conditionals of a branch that is not run share its state (make never decides them).
      if (s.kind === 'conditional' && this.evalDepth === 0) for (const b of s.branches) this.branchLive.set(b, l);
      if (
        l === 'unknown' &&
        (s.kind === 'assignment' || s.kind === 'define') &&
        !(s.kind === 'assignment' && s.targets)
      ) {
        if (!s.nameText.includes('$')) this.uncertain.add(s.nameText.trim());
      }
    });
  }

  private runConditional(s: Statement & { kind: 'conditional' }, mode: Liveness, top: boolean): void {
    let done = false;
    let unsure = mode === 'unknown';
    for (const br of s.branches) {
      if (done) {
        if (top) this.mark(br.body, unsure ? 'unknown' : 'dead');
        this.noteBranch(br, unsure ? 'unknown' : 'dead', top);
        continue;
      }
      let take: boolean;
      if (br.test === null) take = true;
      else {
        const r = this.test(br.test);
        if (r === 'unknown') {
          if (top && this.evalDepth === 0) this.unknownConditionals.push(br.test);
          unsure = true;
          take = this.unknownTrue;
        } else take = r;
      }
      if (take) {
        done = true;
        this.noteBranch(br, unsure ? 'unknown' : mode, top);
        this.run(br.body, unsure ? 'unknown' : mode, top);
      } else {
        this.noteBranch(br, unsure ? 'unknown' : 'dead', top);
        this.mark(br.body, unsure ? 'unknown' : 'dead');
      }
    }
  }

  /** Only the file's own conditionals (not those of $(eval)'d text) have branches to report. */
  private noteBranch(br: ConditionalBranch, l: Liveness, top: boolean): void {
    if (top && this.evalDepth === 0) this.branchLive.set(br, l);
  }

  private test(t: ConditionTest): boolean | 'unknown' {
    if (t.kind === 'ifdef' || t.kind === 'ifndef') {
      const name = this.expandStmt(t.args[0] ?? []).trim();
      let r: boolean | 'unknown';
      if (isUnknownWord(name)) r = 'unknown';
      else {
        const def = this.lookup(name, Infinity);
        if (def) r = truth(def.value.trim()) === 'unknown' ? 'unknown' : def.value.trim() !== '';
        else r = this.undefinedIsKnownEmpty(name) ? false : 'unknown';
      }
      if (r === 'unknown') return r;
      return t.kind === 'ifdef' ? r : !r;
    }
    const a = this.expandStmt(t.args[0] ?? []);
    const b = this.expandStmt(t.args[1] ?? []);
    let eq: boolean | 'unknown';
    if (!isUnknownWord(a) && !isUnknownWord(b)) eq = a === b;
    else {
      const pa = knownPrefix(a);
      const pb = knownPrefix(b);
      const sa = knownSuffix(a);
      const sb = knownSuffix(b);
      const prefDiff = !(pa.startsWith(pb) || pb.startsWith(pa));
      const sufDiff = !(sa.endsWith(sb) || sb.endsWith(sa));
      eq = prefDiff || sufDiff ? false : 'unknown';
    }
    if (eq === 'unknown') return eq;
    return t.kind === 'ifeq' ? eq : !eq;
  }

  private assign(
    stmt: AssignmentStmt | DefineStmt,
    op: AssignOp,
    mods: Modifier[],
    nameExpr: Expr,
    value: Expr,
    rawText: string,
  ): void {
    const name = this.expandStmt(nameExpr).trim();
    if (name === '') {
      this.diag('error', 'Empty variable name');
      return;
    }
    const cur = this.lookup(name, Infinity);
    const override = mods.includes('override');
    if (cur && cur.override && !override) {
      this.setVar(name, cur, stmt, true);
      return;
    }
    const mk = (flavor: 'recursive' | 'simple', v: string): Def => ({
      flavor,
      value: v,
      origin: 'file',
      override: override || (cur?.override ?? false),
    });
    switch (op) {
      case '=':
        this.setVar(name, mk('recursive', rawText), stmt);
        break;
      case ':=':
      case '::=':
        this.setVar(name, mk('simple', this.expandStmt(value)), stmt);
        break;
      case ':::=':
        this.setVar(name, mk('recursive', this.expandStmt(value).replace(/\$/g, '$$$$')), stmt);
        break;
      case '?=':
        if (cur) this.setVar(name, cur, stmt, true);
        else this.setVar(name, mk('recursive', rawText), stmt);
        break;
      case '!=':
        this.setVar(name, mk('recursive', unknownValue('shell')), stmt);
        break;
      case '+=': {
        if (cur) {
          const add = cur.flavor === 'simple' ? this.expandStmt(value) : rawText;
          const v = cur.value === '' ? add : add === '' ? cur.value : cur.value + ' ' + add;
          this.setVar(name, { ...mk(cur.flavor, v), origin: cur.origin === 'initial' ? 'file' : cur.origin }, stmt);
        } else {
          const base = this.undefinedIsEmpty || this.wasEverDefined(name) ? '' : unknownValue(name);
          this.setVar(
            name,
            mk('recursive', base === '' ? rawText : rawText === '' ? base : base + ' ' + rawText),
            stmt,
          );
        }
        break;
      }
    }
  }

  // ---- result ------------------------------------------------------------------------------
  result(): Evaluation {
    const variables = new Map<string, VariableDef>(this.layer?.variables);
    for (const [name, arr] of this.vars) {
      const last = arr[arr.length - 1].def;
      if (!last) {
        variables.delete(name);
        continue;
      }
      variables.set(name, {
        name,
        flavor: last.flavor,
        value: last.value,
        origin: last.origin,
        history: this.records.get(name) ?? [],
      });
    }
    // A layer name whose assignments were all ignored (`?=`, against an override) keeps their records.
    for (const [name, history] of this.records) {
      const initial = this.vars.has(name) ? undefined : this.layer?.defs.get(name);
      if (initial)
        variables.set(name, { name, flavor: initial.flavor, value: initial.value, origin: initial.origin, history });
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the returned object literal's methods close over the evaluator
    const self = this;
    return {
      variables,
      expand(text: string | Expr, extra?: Record<string, string>): string {
        try {
          const e = typeof text === 'string' ? self.parse(text) : text;
          return self.topExpand(e, { at: Infinity, pure: true, extra: extra ?? null });
        } catch {
          return unknownValue('error');
        }
      },
      valueAt(name: string, line: number): string | undefined {
        try {
          return self.valueAt(name, line);
        } catch {
          return unknownValue('error');
        }
      },
      liveness(stmt: Statement): Liveness {
        return self.live.get(stmt) ?? 'dead';
      },
      branchLiveness(branch: ConditionalBranch): Liveness {
        return self.branchLive.get(branch) ?? 'dead';
      },
      unknownConditionals: this.unknownConditionals,
      diagnostics: this.diagnostics,
      messages: this.messages,
      get incomplete(): EvalIncomplete | undefined {
        return self.incomplete;
      },
    };
  }

  start(): void {
    this.run(this.mf.statements, 'live', true);
  }
}

/** Truth of a stripped make condition: non-empty is true; only-unknown parts cannot be decided. */
function truth(v: string): boolean | 'unknown' {
  if (v === '') return false;
  if (!v.includes(UNKNOWN_OPEN)) return true;
  return /[^\s]/.test(withoutUnknowns(v)) ? true : 'unknown';
}

/** Evaluates a parsed makefile. Never throws, never runs anything, never touches the disk. */
export function evaluateMakefile(mf: Makefile, opts: EvalOptions = {}): Evaluation {
  const ev = new Evaluator(mf, opts);
  try {
    ev.start();
  } catch (e) {
    const message = `Evaluation stopped: ${errorText(e)}`;
    ev.diag('error', message);
    ev.incomplete ??= {
      reason: e instanceof RangeError ? 'stack' : 'error',
      message,
      span: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      hits: 1,
    };
  }
  return ev.result();
}
