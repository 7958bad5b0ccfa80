// GNU make parser: text -> Makefile AST with exact LSP positions (0-based line, UTF-16 column).
//
// The parser works a logical line at a time (backslash continuations joined as make joins them),
// keeps a map from offsets in the joined text back to physical positions, and never recurses per
// line: only nested `$(...)` references recurse, and that depth is capped. It never throws; anything
// it cannot classify becomes an ErrorStmt paired with a diagnostic.
//
// Semantics follow GNU make 4.3/4.4 (read.c): assignments are recognised before directives (so
// `export := x` assigns a variable named export), `#` inside `$(...)` does not start a comment, `\#`
// escapes a comment, `#` after a rule's `;` belongs to the recipe, tab lines after a rule are recipe
// lines even inside conditionals, blank and comment lines do not end a rule's recipe.

import type {
  AssignOp,
  AssignmentStmt,
  ConditionalBranch,
  ConditionalKind,
  ConditionalStmt,
  ConditionTest,
  DefineStmt,
  Expr,
  ExprPart,
  Makefile,
  Modifier,
  ParseDiagnostic,
  Pos,
  RecipeLine,
  RuleStmt,
  Span,
  Statement,
} from './ast';
import { errorText } from '../common/errors';

/** make's built-in functions and their maximum argument count (0 = unlimited). */
export const MAKE_FUNCTIONS: ReadonlyMap<string, number> = new Map<string, number>([
  ['abspath', 1],
  ['addprefix', 2],
  ['addsuffix', 2],
  ['basename', 1],
  ['dir', 1],
  ['notdir', 1],
  ['subst', 3],
  ['suffix', 1],
  ['filter', 2],
  ['filter-out', 2],
  ['findstring', 2],
  ['firstword', 1],
  ['flavor', 1],
  ['join', 2],
  ['lastword', 1],
  ['patsubst', 3],
  ['realpath', 1],
  ['shell', 1],
  ['sort', 1],
  ['strip', 1],
  ['wildcard', 1],
  ['word', 2],
  ['wordlist', 3],
  ['words', 1],
  ['origin', 1],
  ['foreach', 3],
  ['let', 3],
  ['call', 0],
  ['info', 1],
  ['error', 1],
  ['warning', 1],
  ['if', 3],
  ['or', 0],
  ['and', 0],
  ['value', 1],
  ['eval', 1],
  ['file', 2],
  ['guile', 1],
  ['intcmp', 5],
]);

const MAX_NESTING = 200;
const MAX_DIAGNOSTICS = 5000;

interface Seg {
  off: number;
  line: number;
  col: number;
}

/** Offsets below this share one Pos object per (map, offset) through a PosCache. */
const POS_CACHE_MAX = 1 << 16;

/** Per-parse cache of Pos objects by offset, stamped with the owning PosMap's id (Pos objects are
 *  never mutated, so spans that meet at an offset can share one). */
class PosCache {
  gen = new Int32Array(256);
  val: (Pos | null)[] = new Array<Pos | null>(256).fill(null);
  next = 0;
  grow(off: number): void {
    let n = this.gen.length;
    while (n <= off) n *= 2;
    const g = new Int32Array(n);
    g.set(this.gen);
    const v = new Array<Pos | null>(n).fill(null);
    for (let k = 0; k < this.val.length; k++) v[k] = this.val[k];
    this.gen = g;
    this.val = v;
  }
}

/** Maps offsets of a (possibly joined) text back to physical positions. */
class PosMap {
  private readonly id: number;
  constructor(
    readonly segs: Seg[],
    private readonly cache: PosCache | null = null,
  ) {
    this.id = cache ? ++cache.next : 0;
  }
  private lastOff = -1;
  private lastPos: Pos | null = null;
  /** Position of an offset. Calls with the same offset share one (read-only) Pos object. */
  pos(off: number): Pos {
    if (off === this.lastOff && this.lastPos) return this.lastPos;
    let p: Pos;
    const c = this.cache;
    if (c !== null && off >= 0 && off < POS_CACHE_MAX) {
      if (off >= c.gen.length) c.grow(off);
      if (c.gen[off] === this.id) p = c.val[off] as Pos;
      else {
        p = this.compute(off);
        c.gen[off] = this.id;
        c.val[off] = p;
      }
    } else p = this.compute(off);
    this.lastOff = off;
    this.lastPos = p;
    return p;
  }
  private compute(off: number): Pos {
    const s = this.segs;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid].off <= off) lo = mid;
      else hi = mid - 1;
    }
    const g = s[lo];
    return { line: g.line, character: g.col + (off - g.off) };
  }
  span(a: number, b: number): Span {
    return { start: this.pos(a), end: this.pos(b) };
  }
}

/** Character codes the scanner compares against (as TypeScript's scanner names them). */
const enum Ch {
  tab = 9,
  carriageReturn = 13,
  space = 32,
  exclamation = 33,
  dollar = 36,
  openParen = 40,
  closeParen = 41,
  plus = 43,
  comma = 44,
  minus = 45,
  colon = 58,
  semicolon = 59,
  equals = 61,
  question = 63,
  backslash = 92,
  lowerA = 97,
  lowerZ = 122,
  openBrace = 123,
  bar = 124,
  closeBrace = 125,
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t';
}
/** isSpace on a UTF-16 code unit. */
function isSpaceCode(c: number): boolean {
  return c === Ch.space || (c >= Ch.tab && c <= Ch.carriageReturn);
}

/** Index of the character closing a reference opened at `open` (text[open] is `(` or `{`), counting
 *  only that bracket type as make does; -1 when unbalanced. */
function findClose(text: string, open: number, end: number): number {
  const opener = text.charCodeAt(open);
  const closer = opener === Ch.openParen ? Ch.closeParen : Ch.closeBrace;
  let depth = 0;
  for (let k = open; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c === opener) depth++;
    else if (c === closer) {
      depth--;
      if (depth === 0) return k;
    }
  }
  return -1;
}

/** Offset just past the reference starting at `$` (t[i] === '$'), or `end` when it is unterminated. */
function skipRef(t: string, i: number, end: number): number {
  if (i + 1 >= end) return end;
  const c = t.charCodeAt(i + 1);
  if (c === Ch.openParen || c === Ch.openBrace) {
    const k = findClose(t, i + 1, end);
    return k < 0 ? end : k + 1;
  }
  return i + 2;
}

/** First top-level offset in [from, end) whose character is `ch` (a UTF-16 code), skipping references. */
function scanTop(t: string, from: number, end: number, ch: number): number {
  for (let i = from; i < end; i++) {
    const c = t.charCodeAt(i);
    if (c === Ch.dollar) {
      i = skipRef(t, i, end) - 1;
      continue;
    }
    if (c === ch) return i;
  }
  return -1;
}

/** A stack of parts shared by one parse: each Expr is built on top of it and copied out with an
 *  exact length (arrays grown by push keep 17+ slots, which dominated the AST's memory). */
class Scratch {
  a: unknown[] = [];
  top = 0;
  push(x: unknown): void {
    const a = this.a;
    if (this.top < a.length) a[this.top] = x;
    else a.push(x);
    this.top++;
  }
  take<T>(base: number): T[] {
    const out = (base === this.top ? [] : this.a.slice(base, this.top)) as T[];
    this.top = base;
    return out;
  }
}

class ExprBuilder {
  /** Results of the last parseUntil besides the expression. */
  private rNext = 0;
  private rStopped = false;
  private rColonAt = -1;
  private rEqAt = -1;

  constructor(
    private readonly t: string,
    private readonly map: PosMap,
    private readonly skip: ReadonlySet<number> | null,
    private readonly diags: ParseDiagnostic[],
    private readonly sc: Scratch = new Scratch(),
  ) {}

  /** The text of [a, b) with escape backslashes removed. */
  clean(a: number, b: number): string {
    if (!this.skip || this.skip.size === 0) return this.t.slice(a, b);
    let out = '';
    let last = a;
    for (const k of this.skip) {
      if (k >= a && k < b) {
        out += this.t.slice(last, k);
        last = k + 1;
      }
    }
    return out + this.t.slice(last, b);
  }

  private diag(message: string, a: number, b: number, severity: 'error' | 'warning' = 'error'): void {
    if (this.diags.length < MAX_DIAGNOSTICS) this.diags.push({ severity, message, span: this.map.span(a, b) });
  }

  /** Parses [a, b) entirely as an expression. */
  parse(a: number, b: number): Expr {
    return this.parseUntil(a, b, 0, false, 0);
  }

  private pushText(buf: string, bufStart: number, textStart: number, upTo: number): void {
    if (textStart < upTo) {
      if (bufStart < 0) bufStart = textStart;
      buf += this.clean(textStart, upTo);
    }
    if (buf !== '' && bufStart >= 0) this.sc.push({ kind: 'text', text: buf, span: this.map.span(bufStart, upTo) });
  }

  /**
   * Parses from `a` until `end`, or (closeCh set, a char code) until the unmatched closing bracket, or
   * (comma) a top-level comma. Sets rNext/rStopped and the offsets of the first top-level ':' and the
   * first '=' after it (rColonAt, rEqAt).
   */
  private parseUntil(a: number, end: number, closeCh: number, comma: boolean, depth: number): Expr {
    const t = this.t;
    const sc = this.sc;
    const base = sc.top;
    const openCh = closeCh === Ch.closeParen ? Ch.openParen : closeCh === Ch.closeBrace ? Ch.openBrace : -1;
    let textStart = a;
    let buf = '';
    let bufStart = -1;
    let plain = 0;
    let colonAt = -1;
    let eqAt = -1;
    let i = a;
    while (i < end) {
      const c = t.charCodeAt(i);
      if (c === Ch.dollar) {
        if (i + 1 >= end) {
          // A lone `$` at the end expands to nothing in make.
          this.pushText(buf, bufStart, textStart, i);
          buf = '';
          bufStart = -1;
          i = end;
          textStart = i;
          continue;
        }
        const d = t.charCodeAt(i + 1);
        if (d === Ch.dollar) {
          if (textStart < i) {
            if (bufStart < 0) bufStart = textStart;
            buf += this.clean(textStart, i);
          }
          if (bufStart < 0) bufStart = i;
          buf += '$';
          i += 2;
          textStart = i;
          continue;
        }
        this.pushText(buf, bufStart, textStart, i);
        buf = '';
        bufStart = -1;
        if (d === Ch.openParen || d === Ch.openBrace) {
          const part = this.parseParen(i, end, depth + 1);
          sc.push(part);
          i = this.rNext;
        } else {
          const nameSpan = this.map.span(i + 1, i + 2);
          sc.push({
            kind: 'ref',
            name: [{ kind: 'text', text: t[i + 1], span: nameSpan }],
            span: this.map.span(i, i + 2),
          });
          i += 2;
        }
        textStart = i;
        continue;
      }
      if (closeCh !== 0) {
        if (c === openCh) plain++;
        else if (c === closeCh) {
          if (plain === 0) {
            this.pushText(buf, bufStart, textStart, i);
            return this.done(base, i, true, colonAt, eqAt);
          }
          plain--;
        } else if (comma && c === Ch.comma && plain === 0) {
          this.pushText(buf, bufStart, textStart, i);
          return this.done(base, i, true, colonAt, eqAt);
        } else if (plain === 0) {
          if (c === Ch.colon && colonAt < 0) colonAt = i;
          else if (c === Ch.equals && colonAt >= 0 && eqAt < 0) eqAt = i;
        }
      }
      i++;
    }
    this.pushText(buf, bufStart, textStart, end);
    return this.done(base, end, false, colonAt, eqAt);
  }

  private done(base: number, next: number, stopped: boolean, colonAt: number, eqAt: number): Expr {
    this.rNext = next;
    this.rStopped = stopped;
    this.rColonAt = colonAt;
    this.rEqAt = eqAt;
    return this.sc.take<ExprPart>(base);
  }

  /** Parses the reference at `i` (`$(` or `${`); sets rNext to the offset after it. */
  private parseParen(i: number, end: number, depth: number): ExprPart {
    const t = this.t;
    const close = t.charCodeAt(i + 1) === Ch.openParen ? Ch.closeParen : Ch.closeBrace;
    const closeStr = close === Ch.closeParen ? ')' : '}';
    const c0 = i + 2;
    if (depth > MAX_NESTING) {
      this.diag(`References nested deeper than ${MAX_NESTING} levels; the rest of the line is kept as text`, i, end);
      this.rNext = end;
      return { kind: 'text', text: this.clean(i, end), span: this.map.span(i, end) };
    }
    // Function call?
    let k = c0;
    for (; k < end; k++) {
      const c = t.charCodeAt(k);
      if (!((c >= Ch.lowerA && c <= Ch.lowerZ) || c === Ch.minus)) break;
    }
    const maxArgs = k > c0 && k < end && isSpaceCode(t.charCodeAt(k)) ? MAKE_FUNCTIONS.get(t.slice(c0, k)) : undefined;
    if (maxArgs !== undefined) {
      const fname = t.slice(c0, k);
      let p = k;
      while (p < end && isSpaceCode(t.charCodeAt(p))) p++;
      const sc = this.sc;
      const base = sc.top;
      let nargs = 0;
      for (;;) {
        const last = maxArgs !== 0 && nargs === maxArgs - 1;
        const arg = this.parseUntil(p, end, close, !last, depth);
        sc.push(arg);
        nargs++;
        const next = this.rNext;
        if (!this.rStopped) {
          const args = sc.take<Expr>(base);
          this.diag(`Unterminated call to function '${fname}': missing '${closeStr}'`, i, end);
          this.rNext = end;
          return { kind: 'call', fn: fname, args, span: this.map.span(i, end) };
        }
        if (t.charCodeAt(next) === Ch.comma) {
          p = next + 1;
          continue;
        }
        const args = sc.take<Expr>(base);
        this.rNext = next + 1;
        return { kind: 'call', fn: fname, args, span: this.map.span(i, next + 1) };
      }
    }
    const name = this.parseUntil(c0, end, close, false, depth);
    const next = this.rNext;
    if (!this.rStopped) {
      this.diag(`Unterminated variable reference: missing '${closeStr}'`, i, end);
      this.rNext = end;
      return { kind: 'ref', name, span: this.map.span(i, end) };
    }
    const colonAt = this.rColonAt;
    const eqAt = this.rEqAt;
    const span = this.map.span(i, next + 1);
    if (colonAt >= 0 && eqAt >= 0) {
      const n = this.parse(c0, colonAt);
      const from = this.parse(colonAt + 1, eqAt);
      const to = this.parse(eqAt + 1, next);
      this.rNext = next + 1;
      return { kind: 'substRef', name: n, from, to, span };
    }
    this.rNext = next + 1;
    return { kind: 'ref', name, span };
  }
}

/** Parses a standalone string (e.g. a variable's value) as an expression; spans are offsets on line 0. */
export function parseExprText(text: string, diags: ParseDiagnostic[] = []): Expr {
  const b = new ExprBuilder(text, new PosMap([{ off: 0, line: 0, col: 0 }]), null, diags);
  return b.parse(0, text.length);
}

/** Reconstructs make source text for an expression (unexpanded), e.g. for display. */
export function exprToText(expr: Expr): string {
  let out = '';
  for (const p of expr) {
    switch (p.kind) {
      case 'text':
        out += p.text.replace(/\$/g, '$$$$');
        break;
      case 'ref': {
        const n = exprToText(p.name);
        out += n.length === 1 && p.name.length === 1 && p.name[0].kind === 'text' ? '$' + n : '$(' + n + ')';
        break;
      }
      case 'substRef':
        out += '$(' + exprToText(p.name) + ':' + exprToText(p.from) + '=' + exprToText(p.to) + ')';
        break;
      case 'call':
        out += '$(' + p.fn + ' ' + p.args.map(exprToText).join(',') + ')';
        break;
    }
  }
  return out;
}

interface Logical {
  text: string;
  map: PosMap;
  first: number;
  last: number;
}

/** One logical line being classified: its text, where its content starts (s) and ends before a comment (e). */
interface LineParts {
  lg: Logical;
  t: string;
  s: number;
  e: number;
  /** Offset of the comment's `#`, or -1. */
  hash: number;
  b: ExprBuilder;
  fullSpan: Span;
}

/**
 * The comment on a line: the first `#` outside references, unless escaped by an odd run of
 * backslashes (-1 when none), and the offsets of the backslashes make removes before a `#`.
 */
function findComment(t: string, s: number): { hash: number; skip: Set<number> | null } {
  let skip: Set<number> | null = null;
  for (let i = s; i < t.length; i++) {
    const c = t[i];
    if (c === '$') {
      i = skipRef(t, i, t.length) - 1;
      continue;
    }
    if (c === '#') {
      let k = i;
      while (k > s && t[k - 1] === '\\') k--;
      const nb = i - k;
      // Half of the backslashes before `#` are removed; an odd run escapes it.
      if (nb > 0) skip ??= new Set<number>();
      for (let q = 0; q < Math.ceil(nb / 2); q++) skip?.add(k + q);
      if (nb % 2 === 1) continue;
      return { hash: i, skip };
    }
  }
  return { hash: -1, skip };
}

/** The line of the `endef` that closes a define whose body starts at line `from` (nested defines counted), or -1. */
function findEndef(lines: readonly string[], from: number): number {
  let depth = 1;
  for (let i = from; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.charCodeAt(0) === Ch.tab) continue;
    const m2 = /^[ \t]*((?:(?:override|export|private|unexport)[ \t]+)*)(define|endef)(?=$|[ \t#])/.exec(raw);
    if (!m2) continue;
    if (m2[2] === 'define') depth++;
    else if (--depth === 0) return i;
  }
  return -1;
}

/** The conditional directive starting at t[s] (`ifeq(` without a space counts), or undefined. */
function conditionalWordAt(t: string, s: number, e: number): ConditionalKind | undefined {
  const w = wordAt(t, s, e);
  if (COND_WORDS.has(w)) return w as ConditionalKind;
  if (t.startsWith('ifeq(', s)) return 'ifeq';
  if (t.startsWith('ifneq(', s)) return 'ifneq';
  return undefined;
}

interface Frame {
  stmt: ConditionalStmt;
  /** Statements list the conditional itself was added to. */
  parentBody: Statement[];
}

const COND_WORDS = new Set(['ifeq', 'ifneq', 'ifdef', 'ifndef']);
const MODIFIER_LIST: readonly Modifier[] = ['export', 'unexport', 'override', 'private'];

class Parser {
  private readonly lines: string[];
  private readonly diags: ParseDiagnostic[] = [];
  private readonly top: Statement[] = [];
  private readonly stack: Frame[] = [];
  private rule: RuleStmt | null = null;
  private ruleBody: Statement[] | null = null;
  private pendingComments: Statement[] = [];
  private eol: 'lf' | 'crlf' = 'lf';
  private readonly posCache = new PosCache();
  private readonly scratch = new Scratch();

  constructor(text: string) {
    const raw = text.split('\n');
    let crlf = 0;
    for (let i = 0; i < raw.length; i++) {
      const l = raw[i];
      if (l.length > 0 && l.charCodeAt(l.length - 1) === Ch.carriageReturn) {
        raw[i] = l.slice(0, -1);
        crlf++;
      }
    }
    if (crlf * 2 > raw.length - 1 && crlf > 0) this.eol = 'crlf';
    this.lines = raw;
    this.scanBadChars(text);
  }

  private scanBadChars(text: string): void {
    let nul = text.indexOf('\0');
    let fffd = text.indexOf('\uFFFD');
    if (nul < 0 && fffd < 0) return;
    let reportedNul = 0;
    let reportedBad = 0;
    for (let i = 0; i < this.lines.length && (nul >= 0 || fffd >= 0); i++) {
      const l = this.lines[i];
      const n = l.indexOf('\0');
      if (n >= 0 && reportedNul < 20) {
        reportedNul++;
        this.diag('warning', 'NUL byte in makefile text (make stops reading the line here)', {
          start: { line: i, character: n },
          end: { line: i, character: n + 1 },
        });
      }
      const f = l.indexOf('\uFFFD');
      if (f >= 0 && reportedBad < 20) {
        reportedBad++;
        this.diag('warning', 'Invalid UTF-8 (U+FFFD replacement character) in makefile text', {
          start: { line: i, character: f },
          end: { line: i, character: f + 1 },
        });
      }
      if (reportedNul >= 20) nul = -1;
      if (reportedBad >= 20) fffd = -1;
    }
  }

  private diag(severity: 'error' | 'warning', message: string, span: Span): void {
    if (this.diags.length < MAX_DIAGNOSTICS) this.diags.push({ severity, message, span });
    else if (this.diags.length === MAX_DIAGNOSTICS)
      this.diags.push({ severity: 'warning', message: 'Too many diagnostics; the rest are not reported', span });
  }

  private body(): Statement[] {
    const f = this.stack[this.stack.length - 1];
    if (!f) return this.top;
    return f.stmt.branches[f.stmt.branches.length - 1].body;
  }

  private flushComments(): void {
    if (this.pendingComments.length) {
      const b = this.body();
      for (const c of this.pendingComments) b.push(c);
      this.pendingComments = [];
    }
  }

  /** Adds a statement that ends any rule context. */
  private add(s: Statement): void {
    this.flushComments();
    this.body().push(s);
    this.endRule();
  }

  /** Leaves rule context; the finished recipe list is copied to its exact length (memory). */
  private endRule(): void {
    const r = this.rule;
    if (r && r.recipe.length > 0) r.recipe = r.recipe.slice();
    this.rule = null;
    this.ruleBody = null;
  }

  private lineSpan(first: number, startCol: number, last: number): Span {
    return { start: { line: first, character: startCol }, end: { line: last, character: this.lines[last].length } };
  }

  /** Joins a logical line as make does outside recipes: backslash-newline plus surrounding blanks -> one space. */
  private readLogical(i: number): Logical {
    const lines = this.lines;
    const segs: Seg[] = [];
    let text = '';
    let li = i;
    let col0 = 0;
    for (;;) {
      const raw = lines[li];
      let k = raw.length;
      while (k > col0 && raw.charCodeAt(k - 1) === Ch.backslash) k--;
      const cont = (raw.length - k) % 2 === 1 && li + 1 < lines.length;
      if (!cont) {
        segs.push({ off: text.length, line: li, col: col0 });
        text += col0 === 0 ? raw : raw.slice(col0);
        break;
      }
      const bs = raw.length - 1;
      let e = bs;
      while (e > col0 && isBlank(raw[e - 1])) e--;
      segs.push({ off: text.length, line: li, col: col0 });
      text += raw.slice(col0, e);
      segs.push({ off: text.length, line: li, col: bs });
      text += ' ';
      li++;
      const nr = lines[li];
      let c = 0;
      while (c < nr.length && isBlank(nr[c])) c++;
      col0 = c;
    }
    return { text, map: new PosMap(segs, this.posCache), first: i, last: li };
  }

  /** Joins a recipe line: continuations kept (backslash-newline), one leading tab dropped per line. */
  private readRecipe(i: number): Logical {
    const lines = this.lines;
    const segs: Seg[] = [];
    let text = '';
    let li = i;
    let col0 = 1;
    for (;;) {
      const raw = lines[li];
      segs.push({ off: text.length, line: li, col: col0 });
      text += raw.slice(col0);
      let k = raw.length;
      while (k > col0 && raw.charCodeAt(k - 1) === Ch.backslash) k--;
      const cont = (raw.length - k) % 2 === 1 && li + 1 < lines.length;
      if (!cont) break;
      segs.push({ off: text.length, line: li, col: raw.length });
      text += '\n';
      li++;
      col0 = lines[li].startsWith('\t') ? 1 : 0;
    }
    return { text, map: new PosMap(segs, this.posCache), first: i, last: li };
  }

  run(): Makefile {
    const lines = this.lines;
    const n = lines.length;
    let i = 0;
    while (i < n) {
      const raw = lines[i];
      if (this.rule && raw.charCodeAt(0) === Ch.tab) {
        const lg = this.readRecipe(i);
        this.addRecipe(lg);
        i = lg.last + 1;
        continue;
      }
      let s = 0;
      while (s < raw.length && isBlank(raw[s])) s++;
      if (s === raw.length && !(raw.endsWith('\\') && i + 1 < n)) {
        i++;
        continue;
      }
      const lg = this.readLogical(i);
      let next = lg.last + 1;
      try {
        next = this.classify(lg);
      } catch (e) {
        this.scratch.top = 0;
        const msg = `Internal parser error: ${errorText(e)}`;
        const span = this.lineSpan(lg.first, 0, lg.last);
        this.add({ kind: 'error', message: msg, span });
        this.diag('error', msg, span);
      }
      i = Math.max(next, i + 1);
    }
    this.flushComments();
    this.endRule();
    while (this.stack.length) {
      const f = this.stack.pop() as Frame;
      f.stmt.terminated = false;
      const last = Math.max(0, n - 1);
      f.stmt.span.end = { line: last, character: lines[last].length };
      const br = f.stmt.branches[f.stmt.branches.length - 1];
      br.span.end = f.stmt.span.end;
      this.diag('error', "Missing 'endif': conditional is not terminated", {
        start: f.stmt.span.start,
        end: { line: f.stmt.span.start.line, character: lines[f.stmt.span.start.line].length },
      });
    }
    return { statements: this.top, diagnostics: this.diags, lineCount: n, eol: this.eol };
  }

  private addRecipe(lg: Logical): void {
    const rule = this.rule as RuleStmt;
    const b = new ExprBuilder(lg.text, lg.map, null, this.diags, this.scratch);
    const span = lg.map.span(0, lg.text.length);
    span.start = { line: lg.first, character: 0 };
    const rl: RecipeLine = { text: b.parse(0, lg.text.length), raw: lg.text, span };
    rule.recipe.push(rl);
    const body = this.body();
    if (this.ruleBody === body && body[body.length - 1] === rule) {
      this.pendingComments = [];
      rule.span.end = { line: lg.last, character: this.lines[lg.last].length };
    }
  }

  /** Classifies one logical line; returns the index of the next physical line to read. */
  private classify(lg: Logical): number {
    const t = lg.text;
    let s = 0;
    while (s < t.length && isSpaceCode(t.charCodeAt(s))) s++;
    // The same values as lineSpan(first, start column or 0, last), sharing the map's Pos objects.
    const ps = lg.map.pos(s);
    const fullSpan: Span = {
      start: ps.line === lg.first ? ps : { line: lg.first, character: 0 },
      end: lg.map.pos(t.length),
    };
    const { hash, skip } = findComment(t, s);
    const e = hash < 0 ? t.length : hash;
    if (s >= e) return this.addCommentLine(lg, t.slice(s), fullSpan);
    const line: LineParts = {
      lg,
      t,
      s,
      e,
      hash,
      b: new ExprBuilder(t, lg.map, skip, this.diags, this.scratch),
      fullSpan,
    };
    return (
      this.classifyAssignment(line) ??
      this.classifyConditional(line) ??
      this.classifyDirective(line) ??
      this.classifyRuleOrExpansion(line)
    );
  }

  /** A line that is only a comment: held for the rule being read, else added. */
  private addCommentLine(lg: Logical, text: string, fullSpan: Span): number {
    const cs: Statement = { kind: 'comment', text, span: fullSpan };
    if (this.rule && this.ruleBody === this.body()) this.pendingComments.push(cs);
    else {
      this.flushComments();
      this.body().push(cs);
    }
    return lg.last + 1;
  }

  /** 1. Assignments (possibly with modifiers) and define/undefine; undefined when the line is none. */
  private classifyAssignment(line: LineParts): number | undefined {
    const { lg, t, e, b, fullSpan } = line;
    const next = lg.last + 1;
    const mods: Modifier[] = [];
    let p = line.s;
    for (;;) {
      const op = findAssignOp(t, p, e);
      if (op) {
        if (op.nameEnd <= p) return undefined;
        this.add(this.makeAssignment(b, lg, t, p, op, e, mods, fullSpan, undefined));
        return next;
      }
      const wEnd = wordEnd(t, p, e);
      if (isWord(t, p, wEnd, 'define')) {
        return this.parseDefine(lg, b, t, p + 6, e, mods, fullSpan);
      }
      if (isWord(t, p, wEnd, 'undefine')) {
        if (mods.includes('override') || mods.length === 0) {
          this.add({
            kind: 'directive',
            directive: 'undefine',
            args: b.parse(skipWs(t, p + 8, e), trimEnd(t, p + 8, e)),
            span: fullSpan,
          });
          return next;
        }
        return undefined;
      }
      const w = modifierAt(t, p, wEnd);
      if (w === null) return undefined;
      const q = skipWs(t, p + w.length, e);
      if (q >= e) return undefined;
      mods.push(w);
      p = q;
    }
  }

  /** 2. Conditionals: ifeq/ifneq/ifdef/ifndef, else, endif; undefined when the line is none. */
  private classifyConditional(line: LineParts): number | undefined {
    const { lg, t, s, e, b, fullSpan } = line;
    const w0 = wordAt(t, s, e);
    const condWord = conditionalWordAt(t, s, e);
    if (condWord) {
      this.flushComments();
      const test = this.parseTest(b, lg, condWord, s, e);
      const stmt: ConditionalStmt = {
        kind: 'conditional',
        branches: [{ test, body: [], span: { ...fullSpan } }],
        terminated: true,
        span: { ...fullSpan },
      };
      this.body().push(stmt);
      this.stack.push({ stmt, parentBody: this.body() });
      return lg.last + 1;
    }
    if (w0 === 'else') return this.classifyElse(line);
    if (w0 === 'endif') return this.classifyEndif(line);
    return undefined;
  }

  private classifyElse(line: LineParts): number {
    const { lg, t, s, e, b, fullSpan } = line;
    const f = this.stack[this.stack.length - 1];
    if (!f) return this.error(lg, fullSpan, "'else' without a matching 'if'");
    this.flushComments();
    const q = skipWs(t, s + 4, e);
    let test: ConditionTest | null = null;
    if (q < e) {
      const cw = conditionalWordAt(t, q, e);
      if (cw) test = this.parseTest(b, lg, cw, q, e);
      else this.diag('warning', "Extraneous text after 'else' directive", lg.map.span(q, e));
    }
    const prev = f.stmt.branches[f.stmt.branches.length - 1];
    if (prev.body.length > 0) prev.body = prev.body.slice();
    if (prev.test === null) this.diag('error', "Only one 'else' per conditional", fullSpan);
    const endLine = lg.first - 1 >= prev.span.start.line ? lg.first - 1 : prev.span.start.line;
    prev.span = { start: prev.span.start, end: { line: endLine, character: this.lines[endLine].length } };
    const br: ConditionalBranch = { test, body: [], span: { ...fullSpan } };
    f.stmt.branches.push(br);
    return lg.last + 1;
  }

  private classifyEndif(line: LineParts): number {
    const { lg, t, s, e, fullSpan } = line;
    const f = this.stack.pop();
    if (!f) return this.error(lg, fullSpan, "'endif' without a matching 'if'");
    this.flushComments();
    if (skipWs(t, s + 5, e) < e)
      this.diag('warning', "Extraneous text after 'endif' directive", lg.map.span(skipWs(t, s + 5, e), e));
    const last = f.stmt.branches[f.stmt.branches.length - 1];
    if (last.body.length > 0) last.body = last.body.slice();
    f.stmt.branches = f.stmt.branches.slice();
    last.span.end = { ...fullSpan.end };
    f.stmt.span.end = { ...fullSpan.end };
    return lg.last + 1;
  }

  /** 3. Other directives: export/unexport/vpath/override, include forms, a stray endef. */
  private classifyDirective(line: LineParts): number | undefined {
    const { lg, t, s, e, b, fullSpan } = line;
    const w0 = wordAt(t, s, e);
    if (w0 === 'export' || w0 === 'unexport' || w0 === 'vpath' || w0 === 'override') {
      const a = skipWs(t, s + w0.length, e);
      this.add({ kind: 'directive', directive: w0, args: b.parse(a, trimEnd(t, a, e)), span: fullSpan });
      return lg.last + 1;
    }
    if (w0 === 'include' || w0 === '-include' || w0 === 'sinclude') {
      const a = skipWs(t, s + w0.length, e);
      this.add({ kind: 'include', optional: w0 !== 'include', files: b.parse(a, trimEnd(t, a, e)), span: fullSpan });
      return lg.last + 1;
    }
    if (w0 === 'endef') return this.error(lg, fullSpan, "'endef' without a matching 'define'");
    return undefined;
  }

  /** 4. Rules (possibly with a target-specific assignment); 5. expansion-only lines; else an error. */
  private classifyRuleOrExpansion(line: LineParts): number {
    const { lg, t, s, e, hash, b, fullSpan } = line;
    const colon = scanTop(t, s, e, Ch.colon);
    const semi0 = colon >= 0 ? scanTop(t, s, e, Ch.semicolon) : -1;
    if (colon >= 0 && (semi0 < 0 || colon < semi0)) {
      return this.parseRule(lg, b, t, s, colon, e, hash, fullSpan);
    }
    // A line that is only expansions: $(eval ...), $(call ...), $(foreach ...).
    const dollar = t.indexOf('$', s);
    if (dollar >= 0 && dollar < e) {
      const end = trimEnd(t, s, e);
      this.add({ kind: 'expression', expr: b.parse(s, end), span: fullSpan });
      return lg.last + 1;
    }
    const tabStart = this.lines[lg.first].startsWith('\t');
    return this.error(
      lg,
      fullSpan,
      tabStart
        ? 'Recipe commences before first target'
        : 'Missing separator (not an assignment, rule, directive or expansion)',
    );
  }

  private error(lg: Logical, span: Span, message: string): number {
    this.add({ kind: 'error', message, span });
    this.diag('error', message, span);
    return lg.last + 1;
  }

  private makeAssignment(
    b: ExprBuilder,
    lg: Logical,
    t: string,
    p: number,
    op: AssignOpAt,
    e: number,
    mods: Modifier[],
    span: Span,
    targets: Expr | undefined,
  ): AssignmentStmt {
    const nameEnd = trimEnd(t, p, op.nameEnd);
    const vs = skipWs(t, op.opEnd, e);
    const st: AssignmentStmt = {
      kind: 'assignment',
      name: b.parse(p, nameEnd),
      nameText: b.clean(p, nameEnd),
      op: op.op,
      value: b.parse(vs, e),
      valueText: b.clean(vs, e),
      modifiers: mods,
      span,
      nameSpan: lg.map.span(p, nameEnd),
      opSpan: lg.map.span(op.opStart, op.opEnd),
      valueSpan: lg.map.span(vs, e),
    };
    if (targets) st.targets = targets;
    return st;
  }

  private parseTest(b: ExprBuilder, lg: Logical, kind: ConditionalKind, s: number, e: number): ConditionTest {
    const t = lg.text;
    const a = skipWs(t, s + kind.length, e);
    const end = trimEnd(t, a, e);
    const span = lg.map.span(s, end);
    if (kind === 'ifdef' || kind === 'ifndef') {
      if (a >= end) this.diag('error', `Missing variable name after '${kind}'`, span);
      return { kind, args: [b.parse(a, end)], span };
    }
    if (t[a] === '(') {
      // Find the top-level comma and the closing parenthesis.
      let depth = 0;
      let comma = -1;
      let close = -1;
      for (let i = a + 1; i < end; i++) {
        const c = t[i];
        if (c === '$') {
          i = skipRef(t, i, end) - 1;
          continue;
        }
        if (c === '(') depth++;
        else if (c === ')') {
          if (depth === 0) {
            close = i;
            break;
          }
          depth--;
        } else if (c === ',' && depth === 0 && comma < 0) comma = i;
      }
      if (comma < 0 || close < 0) {
        this.diag('error', `Invalid syntax in '${kind}': expected (ARG1,ARG2)`, span);
        const stop = close < 0 ? end : close;
        const c1 = comma < 0 ? stop : comma;
        return {
          kind,
          args: [b.parse(a + 1, trimEnd(t, a + 1, c1)), b.parse(comma < 0 ? stop : skipWs(t, comma + 1, stop), stop)],
          span,
        };
      }
      if (skipWs(t, close + 1, end) < end)
        this.diag('warning', `Extraneous text after '${kind}' directive`, lg.map.span(close + 1, end));
      return {
        kind,
        args: [b.parse(a + 1, trimEnd(t, a + 1, comma)), b.parse(skipWs(t, comma + 1, close), close)],
        span,
      };
    }
    // Quoted form: "a" "b" or 'a' 'b'.
    const args: Expr[] = [];
    let i = a;
    for (let k = 0; k < 2; k++) {
      i = skipWs(t, i, end);
      const q = t[i];
      if (q !== '"' && q !== "'") break;
      const j = t.indexOf(q, i + 1);
      if (j < 0 || j >= end) break;
      args.push(b.parse(i + 1, j));
      i = j + 1;
    }
    if (args.length !== 2) {
      this.diag('error', `Invalid syntax in '${kind}': expected (ARG1,ARG2) or "ARG1" "ARG2"`, span);
      while (args.length < 2) args.push([]);
    } else if (skipWs(t, i, end) < end)
      this.diag('warning', `Extraneous text after '${kind}' directive`, lg.map.span(i, end));
    return { kind, args, span };
  }

  private parseDefine(
    lg: Logical,
    b: ExprBuilder,
    t: string,
    after: number,
    e: number,
    mods: Modifier[],
    fullSpan: Span,
  ): number {
    this.flushComments();
    this.endRule();
    const a = skipWs(t, after, e);
    let end = trimEnd(t, a, e);
    let op: AssignOp = '=';
    const m = /(:::=|::=|:=|\+=|\?=|!=|=)$/.exec(t.slice(a, end));
    if (m) {
      op = m[1] as AssignOp;
      end = trimEnd(t, a, end - m[1].length);
    }
    if (a >= end) this.diag('error', "Empty variable name in 'define'", fullSpan);
    const lines = this.lines;
    const endLine = findEndef(lines, lg.last + 1);
    const bodyFirst = lg.last + 1;
    const bodyLast = (endLine < 0 ? lines.length : endLine) - 1;
    const segs: Seg[] = [];
    let text = '';
    for (let k = bodyFirst; k <= bodyLast; k++) {
      if (k > bodyFirst) {
        segs.push({ off: text.length, line: k - 1, col: lines[k - 1].length });
        text += '\n';
      }
      segs.push({ off: text.length, line: k, col: 0 });
      text += lines[k];
    }
    const bodyMap = new PosMap(
      segs.length ? segs : [{ off: 0, line: endLine < 0 ? Math.max(0, lines.length - 1) : endLine, col: 0 }],
      this.posCache,
    );
    const bb = new ExprBuilder(text, bodyMap, null, this.diags, this.scratch);
    const lastLine = endLine < 0 ? lines.length - 1 : endLine;
    const span: Span = { start: fullSpan.start, end: { line: lastLine, character: lines[lastLine].length } };
    const stmt: DefineStmt = {
      kind: 'define',
      name: b.parse(a, end),
      nameText: b.clean(a, end),
      op,
      modifiers: mods,
      body: bb.parse(0, text.length),
      bodyText: text,
      terminated: endLine >= 0,
      span,
      nameSpan: lg.map.span(a, end),
      bodySpan: bodyMap.span(0, text.length),
    };
    this.body().push(stmt);
    if (endLine < 0) {
      this.diag('error', "Missing 'endef': unterminated 'define'", fullSpan);
      return lines.length;
    }
    const el = lines[endLine];
    const rest = el
      .replace(/^[ \t]*endef/, '')
      .replace(/#.*$/, '')
      .trim();
    if (rest)
      this.diag('warning', "Extraneous text after 'endef' directive", {
        start: { line: endLine, character: 0 },
        end: { line: endLine, character: el.length },
      });
    return endLine + 1;
  }

  private parseRule(
    lg: Logical,
    b: ExprBuilder,
    t: string,
    s: number,
    colon: number,
    e: number,
    hash: number,
    fullSpan: Span,
  ): number {
    let after = colon + 1;
    let doubleColon = false;
    let tgtEnd = colon;
    if (t[after] === ':') {
      doubleColon = true;
      after++;
    }
    if (colon > s && t[colon - 1] === '&') tgtEnd = colon - 1; // grouped targets `a b &: c`
    const targets = b.parse(s, trimEnd(t, s, tgtEnd));
    const targetsText = b.clean(s, trimEnd(t, s, tgtEnd));
    // Target-specific variable assignment?
    const mods: Modifier[] = [];
    let p = skipWs(t, after, e);
    for (;;) {
      const op = findAssignOp(t, p, e);
      if (op && op.nameEnd > p) {
        this.add(this.makeAssignment(b, lg, t, p, op, e, mods, fullSpan, targets));
        return lg.last + 1;
      }
      const w = modifierAt(t, p, wordEnd(t, p, e));
      if (w !== null) {
        const q = skipWs(t, p + w.length, e);
        if (q >= e) break;
        mods.push(w);
        p = q;
        continue;
      }
      break;
    }
    // Inline recipe after `;` (a `#` after the `;` belongs to the recipe).
    const lineEnd = t.length;
    const semi = scanTop(t, after, hash >= 0 ? hash : lineEnd, Ch.semicolon);
    const prereqEnd = semi >= 0 ? semi : e;
    let pStart = after;
    let targetPattern: Expr | undefined;
    const colon2 = scanTop(t, after, prereqEnd, Ch.colon);
    if (colon2 >= 0) {
      targetPattern = b.parse(skipWs(t, after, colon2), trimEnd(t, after, colon2));
      pStart = colon2 + 1;
    }
    const bar = scanTop(t, pStart, prereqEnd, Ch.bar);
    const a1 = skipWs(t, pStart, prereqEnd);
    const prereqs = b.parse(a1, trimEnd(t, a1, bar >= 0 ? bar : prereqEnd));
    const rule: RuleStmt = {
      kind: 'rule',
      targets,
      targetsText,
      prerequisites: prereqs,
      doubleColon,
      recipe: [],
      span: fullSpan,
    };
    if (bar >= 0) {
      const a2 = skipWs(t, bar + 1, prereqEnd);
      rule.orderOnly = b.parse(a2, trimEnd(t, a2, prereqEnd));
    }
    if (targetPattern) rule.targetPattern = targetPattern;
    if (semi >= 0) {
      const rs = skipWs(t, semi + 1, lineEnd);
      const rb = new ExprBuilder(t, lg.map, null, this.diags, this.scratch);
      rule.recipe.push({ text: rb.parse(rs, lineEnd), raw: t.slice(rs), span: lg.map.span(rs, lineEnd) });
    }
    if (targets.length === 0) this.diag('warning', 'Rule without targets', fullSpan);
    this.add(rule);
    this.rule = rule;
    this.ruleBody = this.body();
    return lg.last + 1;
  }
}

interface AssignOpAt {
  op: AssignOp;
  nameEnd: number;
  opStart: number;
  opEnd: number;
}

/** make's parse_variable_definition: where the assignment operator is, or null when the text at
 *  `from` is not a variable definition (a `:` not followed by `=`, or a blank followed by a non-operator). */
function findAssignOp(text: string, from: number, end: number): AssignOpAt | null {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === Ch.dollar) {
      i = skipRef(text, i, end) - 1;
      continue;
    }
    if (isSpaceCode(c)) {
      const j = skipWs(text, i, end);
      const op = j < end ? opAt(text, j) : null;
      if (op === null || j + op.length > end) return null;
      return { op, nameEnd: i, opStart: j, opEnd: j + op.length };
    }
    if (c === Ch.equals || c === Ch.colon || c === Ch.plus || c === Ch.question || c === Ch.exclamation) {
      const op = opAt(text, i);
      if (op !== null && i + op.length <= end) return { op, nameEnd: i, opStart: i, opEnd: i + op.length };
      if (c === Ch.colon) return null;
    }
  }
  return null;
}

/** The assignment operator starting at `i`, if any. */
function opAt(t: string, i: number): AssignOp | null {
  const c = t.charCodeAt(i);
  if (c === Ch.equals) return '=';
  if (c === Ch.colon) {
    if (t.startsWith(':=', i)) return ':=';
    if (t.startsWith('::=', i)) return '::=';
    if (t.startsWith(':::=', i)) return ':::=';
    return null;
  }
  if (t.charCodeAt(i + 1) === Ch.equals) {
    if (c === Ch.plus) return '+=';
    if (c === Ch.question) return '?=';
    if (c === Ch.exclamation) return '!=';
  }
  return null;
}

function skipWs(t: string, i: number, e: number): number {
  while (i < e && isSpaceCode(t.charCodeAt(i))) i++;
  return i;
}
function trimEnd(t: string, a: number, e: number): number {
  while (e > a && isSpaceCode(t.charCodeAt(e - 1))) e--;
  return e;
}
function wordEnd(t: string, p: number, e: number): number {
  let k = p;
  while (k < e && !isSpaceCode(t.charCodeAt(k))) k++;
  return k;
}
function wordAt(t: string, p: number, e: number): string {
  return t.slice(p, wordEnd(t, p, e));
}
/** Whether [p, k) is exactly `w`. */
function isWord(t: string, p: number, k: number, w: string): boolean {
  return k - p === w.length && t.startsWith(w, p);
}
/** The modifier word spanning [p, k), or null. */
function modifierAt(t: string, p: number, k: number): Modifier | null {
  for (const m of MODIFIER_LIST) if (isWord(t, p, k, m)) return m;
  return null;
}

/** Parses GNU make text. Never throws; problems become diagnostics (and ErrorStmts). */
export function parseMakefile(text: string): Makefile {
  try {
    return new Parser(text).run();
  } catch (e) {
    const span: Span = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const message = `Internal parser error: ${errorText(e)}`;
    return {
      statements: [{ kind: 'error', message, span }],
      diagnostics: [{ severity: 'error', message, span }],
      lineCount: text.split('\n').length,
      eol: 'lf',
    };
  }
}

/** The expressions of one statement (names, values, targets, recipe lines, conditional tests), in order. */
export function statementExprs(stmt: Statement): Expr[] {
  switch (stmt.kind) {
    case 'assignment':
      return [stmt.name, stmt.value, ...(stmt.targets ? [stmt.targets] : [])];
    case 'define':
      return [stmt.name, stmt.body];
    case 'rule':
      return [
        stmt.targets,
        stmt.prerequisites,
        ...(stmt.orderOnly ? [stmt.orderOnly] : []),
        ...(stmt.targetPattern ? [stmt.targetPattern] : []),
        ...stmt.recipe.map((r) => r.text),
      ];
    case 'conditional':
      return stmt.branches.flatMap((b) => (b.test ? b.test.args : []));
    case 'include':
      return [stmt.files];
    case 'directive':
      return [stmt.args];
    case 'expression':
      return [stmt.expr];
    default:
      return [];
  }
}

/** Visits every statement, depth first, including those nested in conditionals. */
export function walkStatements(stmts: Statement[], fn: (s: Statement, depth: number) => void, depth = 0): void {
  // Iterative to stay safe on deeply nested conditionals.
  const stack: { list: Statement[]; i: number; depth: number }[] = [{ list: stmts, i: 0, depth }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i >= top.list.length) {
      stack.pop();
      continue;
    }
    const s = top.list[top.i++];
    fn(s, top.depth);
    if (s.kind === 'conditional') {
      for (let k = s.branches.length - 1; k >= 0; k--)
        stack.push({ list: s.branches[k].body, i: 0, depth: top.depth + 1 });
    }
  }
}
