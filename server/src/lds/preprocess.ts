// A C preprocessor sufficient for the kernel's `*.lds.S` (clang -E -P, assembler-with-cpp): object-
// and function-like macros (variadic, `#`, `##`, GNU `, ## __VA_ARGS__`), #include/#include_next
// with the given include dirs, #if/#ifdef/#elif with defined() and 64-bit arithmetic, -include,
// -D/-U, and -C (comments kept). Macro expansion uses hide sets (Prosser's algorithm), so recursive
// macros stop as in cpp. Pure: files are read through the injected `readFile`; all work is bounded
// (tokens, output, include depth, nesting) and what could not be done is listed in `incomplete`.
import { evaluatePpExpr, PpExprError } from './ppExpr';
import { copyToken, HideSet, lexPp, spliceLines, wouldPaste, type PpToken } from './ppLexer';

export interface PreprocessInput {
  file: string;
  text: string;
  /** Searched for #include <...> and, after the including file's folder, "...". */
  includeDirs: string[];
  /** Like -include: read before the file, in order. */
  forcedIncludes: string[];
  /** -D values and predefined macros: `NAME` -> body, or `NAME(a,b)` -> body for a function-like one. */
  defines: Map<string, string>;
  /** -U: applied after the defines. */
  undefines: string[];
  /** I/O injected: the file's text, or undefined when it cannot be read (bounded at the edge). */
  readFile(path: string): string | undefined;
  /** -C: keep comments of text lines in the output. */
  keepComments?: boolean;
  /**
   * Bounds (defaults: 2 million tokens, 16 MiB of output). The 6.12 arm64 vmlinux.lds.S with all its
   * headers takes about 33,000 token steps and 16 KB of output, so a real script is far inside them,
   * and a macro that grows without end stops within seconds.
   */
  maxTokens?: number;
  maxOutputChars?: number;
}

export interface PreprocessResult {
  text: string;
  /** What could not be done (an unreadable #include, #error, a bound reached, a bad #if): the text may differ from cpp's. */
  incomplete: string[];
  /** Every file read (for dependency checks), in order. */
  files: string[];
}

interface Macro {
  name: string;
  /** undefined: object-like. */
  params?: string[];
  variadic: boolean;
  body: PpToken[];
}

class Abort extends Error {}

const MAX_INCLUDE_DEPTH = 200;
const MAX_EXPANSION_NESTING = 400;

interface CondFrame {
  /** This branch is being processed. */
  active: boolean;
  /** Some branch of this #if was taken already. */
  taken: boolean;
  parentActive: boolean;
  sawElse: boolean;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}
function joinPath(dir: string, name: string): string {
  if (name.startsWith('/')) return name;
  return dir === '.' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
}

class Preprocessor {
  readonly macros = new Map<string, Macro>();
  readonly incomplete: string[] = [];
  readonly files: string[] = [];
  private readonly chunks: string[] = [];
  private outChars = 0;
  private steps = 0;
  private prev: PpToken | undefined;
  private blankRun = 0;
  private atLineStart = true;
  private depth = 0;
  private readonly once = new Set<string>();
  private counter = 0;
  private currentFile = '';
  private currentLine = 0;
  private readonly maxTokens: number;
  private readonly maxOut: number;

  constructor(readonly input: PreprocessInput) {
    this.maxTokens = input.maxTokens ?? 2_000_000;
    this.maxOut = input.maxOutputChars ?? 16 << 20;
  }

  note(msg: string): void {
    if (this.incomplete.length < 50 && !this.incomplete.includes(msg)) this.incomplete.push(msg);
  }
  tick(n = 1): void {
    this.steps += n;
    if (this.steps > this.maxTokens) {
      this.note(`stopped after ${this.maxTokens} tokens (a macro that grows without end?)`);
      throw new Abort();
    }
  }

  run(): string {
    try {
      const cmdLine = [...this.input.defines].map(([k, v]) => `#define ${k.includes('(') ? k : k} ${v}`).join('\n');
      this.processText(
        '<command line>',
        cmdLine + '\n' + this.input.undefines.map((u) => `#undef ${u}`).join('\n'),
        -1,
        false,
      );
      for (const f of this.input.forcedIncludes) {
        const found = this.findInclude(f, false, dirname(this.input.file), -1);
        if (!found) this.note(`cannot read -include ${f}`);
        else this.processText(found.path, found.text, found.dirIndex, true);
      }
      this.files.push(this.input.file);
      this.processText(this.input.file, this.input.text, -1, true);
    } catch (e) {
      if (!(e instanceof Abort)) throw e;
    }
    return this.chunks.join('');
  }

  /** Runs the directives and text of one file. `emit` false: definitions only (the command line). */
  processText(path: string, text: string, dirIndex: number, emit: boolean): void {
    if (++this.depth > MAX_INCLUDE_DEPTH) {
      this.depth--;
      this.note(`#include nested more than ${MAX_INCLUDE_DEPTH} deep at ${path} (an include cycle?)`);
      return;
    }
    const saved = [this.currentFile, this.currentLine] as const;
    this.currentFile = path;
    try {
      const spliced = spliceLines(text);
      const toks = lexPp(spliced.text, spliced.lineOf);
      this.tick(toks.length);
      this.runLines(toks, path, dirIndex, emit);
    } finally {
      [this.currentFile, this.currentLine] = saved;
      this.depth--;
    }
  }

  runLines(toks: PpToken[], path: string, dirIndex: number, emit: boolean): void {
    const conds: CondFrame[] = [];
    const active = (): boolean => conds.length === 0 || conds[conds.length - 1].active;
    let pending: PpToken[] = [];
    const flush = (): void => {
      if (pending.length > 0 && emit) this.emitText(pending);
      pending = [];
    };
    let start = 0;
    while (start < toks.length) {
      let end = start;
      while (end < toks.length && toks[end].kind !== 'newline') end++;
      const line = toks.slice(start, end);
      const nl = toks[end];
      start = end + 1;
      const first = line.findIndex((t) => t.kind !== 'comment');
      if (first >= 0 && line[first].kind === 'punct' && line[first].text === '#') {
        const rest = line.slice(first + 1).filter((t) => t.kind !== 'comment');
        const name = rest[0]?.kind === 'ident' ? rest[0].text : '';
        this.currentLine = line[first].line;
        if (this.conditional(name, rest.slice(1), conds)) continue;
        if (!active()) continue;
        flush();
        if (!this.directive(name, rest, path, dirIndex, emit)) {
          pending.push(...line); // assembler mode: an unknown directive is text
          if (nl) pending.push(nl);
        }
        continue;
      }
      if (!active()) continue;
      pending.push(...line);
      if (nl) pending.push(nl);
    }
    flush();
    if (conds.length > 0) this.note(`${path}: #if without #endif`);
  }

  /** #if/#ifdef/#ifndef/#elif/#elifdef/#elifndef/#else/#endif; false for other directives. */
  conditional(name: string, args: PpToken[], conds: CondFrame[]): boolean {
    const top = conds[conds.length - 1];
    const outerActive = conds.length === 0 || top.active;
    switch (name) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const v = outerActive ? this.condValue(name, args) : false;
        conds.push({ active: outerActive && v, taken: v, parentActive: outerActive, sawElse: false });
        return true;
      }
      case 'elif':
      case 'elifdef':
      case 'elifndef': {
        if (!top) return (this.stray(name), true);
        if (top.taken || !top.parentActive) top.active = false;
        else {
          const v = this.condValue(name === 'elif' ? 'if' : name.slice(2), args);
          top.active = v;
          top.taken = v;
        }
        return true;
      }
      case 'else':
        if (!top) return (this.stray(name), true);
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        top.sawElse = true;
        return true;
      case 'endif':
        if (!top) return (this.stray(name), true);
        conds.pop();
        return true;
    }
    return false;
  }

  stray(name: string): void {
    this.note(`${this.currentFile}:${this.currentLine}: #${name} without #if`);
  }

  condValue(kind: string, args: PpToken[]): boolean {
    if (kind === 'ifdef' || kind === 'ifndef') {
      const id = args.find((t) => t.kind === 'ident');
      if (!id) {
        this.note(`${this.currentFile}:${this.currentLine}: #${kind} without a name`);
        return false;
      }
      return this.macros.has(id.text) === (kind === 'ifdef');
    }
    try {
      const expanded = this.expand(this.replaceDefined(args), 0);
      return evaluatePpExpr(
        this.replaceDefined(expanded).map((t) => (t.kind === 'ident' && !t.text.startsWith('__has') ? t : t)),
      );
    } catch (e) {
      if (e instanceof PpExprError) {
        this.note(`${this.currentFile}:${this.currentLine}: ${e.message} (taken as false)`);
        return false;
      }
      throw e;
    }
  }

  /** `defined X`, `defined(X)` and `__has_include(...)` to 1/0 before expansion (as cpp does). */
  replaceDefined(toks: PpToken[]): PpToken[] {
    const out: PpToken[] = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === 'ident' && (t.text === 'defined' || t.text.startsWith('__has_'))) {
        let j = i + 1;
        const paren = toks[j]?.text === '(';
        if (paren) j++;
        let v: boolean;
        if (t.text === 'defined') {
          v = toks[j]?.kind === 'ident' && this.macros.has(toks[j].text);
          j++;
        } else {
          let depth = 0;
          const argToks: PpToken[] = [];
          for (; j < toks.length; j++) {
            if (toks[j].text === '(') depth++;
            if (toks[j].text === ')' && depth-- === 0) break;
            argToks.push(toks[j]);
          }
          v = this.hasQuery(t.text, argToks);
        }
        if (paren && toks[j]?.text === ')') j++;
        out.push({
          kind: 'number',
          text: v ? '1' : '0',
          space: t.space,
          line: t.line,
          hide: undefined,
          expanded: undefined,
        });
        i = j - 1;
      } else out.push(t);
    }
    return out;
  }

  hasQuery(name: string, args: PpToken[]): boolean {
    if (name === '__has_include' || name === '__has_include_next') {
      const spec = this.headerName(args);
      return !!spec && !!this.findInclude(spec.name, spec.angled, dirname(this.currentFile), -1);
    }
    this.note(`${this.currentFile}:${this.currentLine}: ${name}(...) is not known here (taken as 0)`);
    return false;
  }

  /** #define/#undef/#include/#error/...; false: not a directive this preprocessor knows (kept as text). */
  directive(name: string, rest: PpToken[], path: string, dirIndex: number, emit: boolean): boolean {
    const args = rest.slice(1);
    switch (name) {
      case 'define':
        this.define(args);
        return true;
      case 'undef':
        if (args[0]?.kind === 'ident') this.macros.delete(args[0].text);
        return true;
      case 'include':
      case 'include_next':
      case 'import':
        this.include(args, name === 'include_next', path, dirIndex, emit);
        return true;
      case 'error':
        this.note(`${path}:${this.currentLine}: #error ${args.map((t) => t.text).join(' ')}`);
        return true;
      case 'pragma':
        if (args[0]?.text === 'once') this.once.add(path);
        return true;
      case 'warning':
      case 'line':
      case 'ident':
      case 'sccs':
      case 'assert':
      case 'unassert':
      case '':
        return rest.length === 0 || name !== '';
    }
    return false;
  }

  define(args: PpToken[]): void {
    const nameTok = args[0];
    if (!nameTok || nameTok.kind !== 'ident') {
      this.note(`${this.currentFile}:${this.currentLine}: #define without a name`);
      return;
    }
    let i = 1;
    let params: string[] | undefined;
    let variadic = false;
    if (args[1]?.text === '(' && !args[1].space) {
      params = [];
      for (i = 2; i < args.length && args[i].text !== ')'; i++) {
        const t = args[i];
        if (t.text === ',') continue;
        if (t.text === '...') {
          variadic = true;
          params.push('__VA_ARGS__');
        } else if (t.kind === 'ident') {
          if (args[i + 1]?.text === '...') {
            variadic = true;
            i++;
          }
          params.push(t.text);
        }
      }
      i++;
    }
    const body = args.slice(i).map((t, k) => (k === 0 ? copyToken(t, false) : t));
    this.macros.set(nameTok.text, { name: nameTok.text, params, variadic, body });
  }

  headerName(args: PpToken[]): { name: string; angled: boolean } | undefined {
    if (args[0]?.kind === 'string' && args[0].text.startsWith('"'))
      return { name: args[0].text.slice(1, -1), angled: false };
    if (args[0]?.text === '<') {
      const close = args.findIndex((t) => t.text === '>');
      if (close < 0) return undefined;
      return {
        name: args
          .slice(1, close)
          .map((t, k) => (k > 0 && t.space ? ' ' : '') + t.text)
          .join(''),
        angled: true,
      };
    }
    return undefined;
  }

  include(args: PpToken[], next: boolean, path: string, dirIndex: number, emit: boolean): void {
    let spec = this.headerName(args);
    if (!spec) spec = this.headerName(this.expand(args, 0)); // a computed #include
    if (!spec) {
      this.note(`${path}:${this.currentLine}: #include without a file name`);
      return;
    }
    const found = this.findInclude(spec.name, spec.angled, dirname(path), next ? dirIndex : -1, next);
    if (!found) {
      this.note(
        `${path}:${this.currentLine}: cannot read #include ${spec.angled ? `<${spec.name}>` : `"${spec.name}"`}`,
      );
      return;
    }
    if (this.once.has(found.path)) return;
    this.files.push(found.path);
    this.processText(found.path, found.text, found.dirIndex, emit);
  }

  /** The include file, searched as cpp does: "..." in the including file's folder first, then the dirs. */
  findInclude(
    name: string,
    angled: boolean,
    fromDir: string,
    afterIndex: number,
    next = false,
  ): { path: string; text: string; dirIndex: number } | undefined {
    if (name.startsWith('/')) {
      const text = this.input.readFile(name);
      return text === undefined ? undefined : { path: name, text, dirIndex: -1 };
    }
    if (!angled && !next) {
      const p = joinPath(fromDir, name);
      const text = this.input.readFile(p);
      if (text !== undefined) return { path: p, text, dirIndex: -1 };
    }
    const dirs = this.input.includeDirs;
    for (let i = next ? afterIndex + 1 : 0; i < dirs.length; i++) {
      const p = joinPath(dirs[i], name);
      const text = this.input.readFile(p);
      if (text !== undefined) return { path: p, text, dirIndex: i };
    }
    return undefined;
  }

  // ---- macro expansion ----

  /** Fully macro-expands a token list (Prosser's algorithm: a stack of pending tokens, hide sets). */
  expand(tokens: PpToken[], nesting: number): PpToken[] {
    if (nesting > MAX_EXPANSION_NESTING) {
      this.note(`macro arguments nested more than ${MAX_EXPANSION_NESTING} deep: left unexpanded`);
      return tokens;
    }
    const stack = tokens.slice().reverse();
    const out: PpToken[] = [];
    while (stack.length > 0) {
      const t = stack.pop() as PpToken;
      this.tick();
      if (t.kind !== 'ident' || t.hide?.has(t.text)) {
        out.push(t);
        continue;
      }
      const builtin = this.builtin(t);
      if (builtin) {
        out.push(builtin);
        continue;
      }
      const m = this.macros.get(t.text);
      if (!m) {
        out.push(t);
        continue;
      }
      const repl =
        m.params === undefined
          ? this.substitute(m, [], (t.hide ?? HideSet.empty).with(m.name), t, nesting)
          : this.invoke(m, t, stack, nesting);
      if (!repl) {
        out.push(t);
        continue;
      }
      for (let k = repl.length - 1; k >= 0; k--) stack.push(repl[k]);
    }
    return out;
  }

  builtin(t: PpToken): PpToken | undefined {
    if (this.macros.has(t.text)) return undefined;
    const num = (v: number): PpToken => ({
      kind: 'number',
      text: String(v),
      space: t.space,
      line: t.line,
      expanded: true,
    });
    if (t.text === '__LINE__') return num(t.line);
    if (t.text === '__COUNTER__') return num(this.counter++);
    if (t.text === '__INCLUDE_LEVEL__') return num(Math.max(0, this.depth - 1));
    if (t.text === '__FILE__' || t.text === '__BASE_FILE__') {
      return {
        kind: 'string',
        text: JSON.stringify(t.text === '__FILE__' ? this.currentFile : this.input.file),
        space: t.space,
        line: t.line,
        expanded: true,
      };
    }
    return undefined;
  }

  /** A function-like macro's invocation: its arguments from the stack; undefined when no `(` follows. */
  invoke(m: Macro, nameTok: PpToken, stack: PpToken[], nesting: number): PpToken[] | undefined {
    let j = stack.length - 1;
    while (j >= 0 && (stack[j].kind === 'newline' || stack[j].kind === 'comment')) j--;
    if (j < 0 || stack[j].text !== '(') return undefined;
    const saved = stack.slice(j);
    stack.length = j;
    const args: PpToken[][] = [[]];
    let depth = 0;
    let rparen: PpToken | undefined;
    while (stack.length > 0) {
      const t = stack.pop() as PpToken;
      this.tick();
      if (t.kind === 'newline' || t.kind === 'comment') {
        if (stack.length > 0) stack[stack.length - 1] = copyToken(stack[stack.length - 1], true);
        continue;
      }
      if (t.text === '(') depth++;
      else if (t.text === ')' && depth-- === 0) {
        rparen = t;
        break;
      } else if (t.text === ',' && depth === 0 && !(m.variadic && args.length === (m.params?.length ?? 0))) {
        args.push([]);
        continue;
      }
      args[args.length - 1].push(t);
    }
    if (!rparen) {
      this.note(`${this.currentFile}: unterminated invocation of macro ${m.name}`);
      for (let k = 0; k < saved.length; k++) stack.push(saved[k]);
      return undefined;
    }
    const params = m.params ?? [];
    if (params.length === 0 && args.length === 1 && args[0].length === 0) args.length = 0;
    if (m.variadic && args.length === params.length - 1) args.push([]);
    if (args.length !== params.length) {
      this.note(`${this.currentFile}: macro ${m.name} takes ${params.length} arguments, given ${args.length}`);
      return undefined;
    }
    const hs = (nameTok.hide ?? HideSet.empty).intersect(rparen.hide).with(m.name);
    return this.substitute(m, args, hs, nameTok, nesting);
  }

  /** The body with parameters replaced, `#` and `##` applied, hide sets extended by `hs`. */
  substitute(m: Macro, args: PpToken[][], hs: HideSet, nameTok: PpToken, nesting: number): PpToken[] {
    const params = m.params ?? [];
    const body = m.body;
    const paramIndex = (t: PpToken | undefined): number => (t && t.kind === 'ident' ? params.indexOf(t.text) : -1);
    const expandedArgs = new Map<number, PpToken[]>();
    const expandedArg = (k: number): PpToken[] => {
      let e = expandedArgs.get(k);
      if (!e) {
        e = this.expand(args[k], nesting + 1);
        expandedArgs.set(k, e);
      }
      return e;
    };
    const res: PpToken[] = [];
    const placemarker = (line: number): PpToken => ({
      kind: 'other',
      text: '',
      space: false,
      line,
      hide: undefined,
      expanded: undefined,
    });
    for (let i = 0; i < body.length; i++) {
      const b = body[i];
      if (b.kind === 'punct' && b.text === '#' && m.params && paramIndex(body[i + 1]) >= 0) {
        res.push(stringify(args[paramIndex(body[i + 1])], b));
        i++;
      } else if (b.kind === 'punct' && b.text === '##' && res.length > 0 && i + 1 < body.length) {
        const next = body[++i];
        const pi = paramIndex(next);
        const rhs = pi >= 0 ? args[pi] : [next];
        const lhs = res.pop() as PpToken;
        if (lhs.text === ',' && m.variadic && pi === params.length - 1) {
          if (rhs.length > 0) res.push(lhs, ...rhs); // GNU: `, ## __VA_ARGS__` keeps the comma only with arguments
        } else if (rhs.length === 0) res.push(lhs);
        else if (lhs.text === '') res.push(...rhs);
        else res.push(...paste(lhs, rhs[0]), ...rhs.slice(1));
      } else if (paramIndex(b) >= 0) {
        const k = paramIndex(b);
        const raw = body[i + 1]?.text === '##';
        const toks = raw ? args[k] : expandedArg(k);
        if (toks.length === 0) {
          if (raw) res.push(placemarker(b.line));
          continue;
        }
        res.push(copyToken(toks[0], b.space), ...toks.slice(1));
      } else res.push(b);
    }
    const out: PpToken[] = [];
    for (const t of res) {
      if (t.kind === 'other' && t.text === '') continue;
      out.push(copyToken(t, t.space, t.line, hs.union(t.hide), true));
    }
    if (out.length > 0) out[0] = copyToken(out[0], nameTok.space);
    return out;
  }

  // ---- output ----

  emitText(toks: PpToken[]): void {
    const expanded = this.expand(this.input.keepComments ? toks : toks.filter((t) => t.kind !== 'comment'), 0);
    for (const t of expanded) this.emit(t);
  }

  emit(t: PpToken): void {
    let s: string;
    if (t.kind === 'newline') {
      if (this.atLineStart) {
        if (++this.blankRun > 1) return; // squeeze blank lines as -P does
      }
      this.atLineStart = true;
      this.prev = undefined;
      s = '\n';
    } else {
      const sep =
        !this.atLineStart &&
        (t.space || (this.prev !== undefined && (t.expanded || this.prev.expanded) && wouldPaste(this.prev, t)))
          ? ' '
          : '';
      s = sep + t.text;
      this.atLineStart = false;
      this.blankRun = 0;
      this.prev = t;
    }
    this.outChars += s.length;
    if (this.outChars > this.maxOut) {
      this.note(`output larger than ${this.maxOut} characters: stopped`);
      throw new Abort();
    }
    this.chunks.push(s);
  }
}

function stringify(arg: PpToken[], at: PpToken): PpToken {
  let s = '';
  for (let k = 0; k < arg.length; k++) {
    const t = arg[k];
    if (t.kind === 'newline' || t.kind === 'comment') continue;
    if (k > 0 && t.space) s += ' ';
    s += t.kind === 'string' ? t.text.replace(/[\\"]/g, '\\$&') : t.text;
  }
  return { kind: 'string', text: `"${s}"`, space: at.space, line: at.line, hide: undefined, expanded: undefined };
}

function paste(a: PpToken, b: PpToken): PpToken[] {
  const toks = lexPp(a.text + b.text).filter((t) => t.kind !== 'newline');
  if (toks.length === 0) return [];
  toks[0] = copyToken(toks[0], a.space);
  return toks.map((t) => copyToken(t, t.space, a.line, a.hide));
}

/** Preprocesses `input.text` as `clang -E -P` would (with -C when `keepComments`). */
export function preprocess(input: PreprocessInput): PreprocessResult {
  const pp = new Preprocessor(input);
  const text = pp.run();
  return { text, incomplete: pp.incomplete, files: pp.files };
}
