// The value of a `#if` expression after macro expansion (`defined` already replaced): C integer
// arithmetic in 64 bits (intmax_t/uintmax_t as cpp uses), identifiers left over are 0.
// Throws PpExprError on a malformed expression; the caller reports it.
import type { PpToken } from './ppLexer';

export class PpExprError extends Error {}

/**
 * How deep an expression may nest. Each level costs a few stack frames; the kernel's headers nest
 * a handful. Far below what overflows node's stack (about 3,000 parentheses did), so a hostile
 * `#if ((((...` gets this error instead of a RangeError.
 */
export const MAX_PP_EXPR_DEPTH = 256;

interface Val {
  v: bigint;
  unsigned: boolean;
}

const wrap = (x: Val): Val => ({
  v: x.unsigned ? BigInt.asUintN(64, x.v) : BigInt.asIntN(64, x.v),
  unsigned: x.unsigned,
});

function parseNumber(text: string): Val {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$/.exec(text);
  if (!m) throw new PpExprError(`invalid integer '${text}' in #if`);
  const digits = m[1];
  let v: bigint;
  if (/^0[bB]/.test(digits)) v = BigInt(digits);
  else if (/^0[0-7]+$/.test(digits)) v = BigInt('0o' + digits.slice(1));
  else v = BigInt(digits === '0' ? '0' : digits);
  const unsigned = /[uU]/.test(m[2]) || v > BigInt.asUintN(63, -1n);
  return wrap({ v, unsigned });
}

function charValue(text: string): Val {
  const body = text.slice(1, -1);
  const esc: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    '0': 0,
    '\\': 92,
    "'": 39,
    '"': 34,
    a: 7,
    b: 8,
    f: 12,
    v: 11,
  };
  if (body.startsWith('\\')) return { v: BigInt(esc[body[1]] ?? body.charCodeAt(1)), unsigned: false };
  return { v: BigInt(body.charCodeAt(0) || 0), unsigned: false };
}

const BINARY: Record<string, number> = {
  '*': 10,
  '/': 10,
  '%': 10,
  '+': 9,
  '-': 9,
  '<<': 8,
  '>>': 8,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '==': 6,
  '!=': 6,
  '&': 5,
  '^': 4,
  '|': 3,
  '&&': 2,
  '||': 1,
};

class ExprParser {
  i = 0;
  constructor(readonly toks: PpToken[]) {}
  peek(): string | undefined {
    return this.toks[this.i]?.text;
  }
  /** Open parentheses, unary operators and `?:` arms being parsed (each is a level of recursion). */
  depth = 0;
  /** Enters one level of nesting; beyond MAX_PP_EXPR_DEPTH the expression is refused, not the stack overflowed. */
  nest<T>(f: () => T): T {
    if (++this.depth > MAX_PP_EXPR_DEPTH)
      throw new PpExprError(
        `#if expression nested more than ${MAX_PP_EXPR_DEPTH} deep (parentheses, unary operators or ?:)`,
      );
    try {
      return f();
    } finally {
      this.depth--;
    }
  }
  primary(): Val {
    return this.nest(() => this.primaryAt());
  }
  /** Operands C does not evaluate (after `0 &&`, `1 ||`, the ?: arm not taken): no division-by-zero error. */
  skipping = 0;
  unevaluated<T>(f: () => T): T {
    this.skipping++;
    try {
      return f();
    } finally {
      this.skipping--;
    }
  }
  primaryAt(): Val {
    const t = this.toks[this.i++];
    if (!t) throw new PpExprError('#if expression ends early');
    if (t.kind === 'number') return parseNumber(t.text);
    if (t.kind === 'string' && t.text.startsWith("'")) return charValue(t.text);
    if (t.kind === 'ident') {
      if (t.text === 'true') return { v: 1n, unsigned: false };
      return { v: 0n, unsigned: false }; // an identifier that is not a macro is 0
    }
    if (t.text === '(') {
      const v = this.comma();
      if (this.toks[this.i++]?.text !== ')') throw new PpExprError("missing ')' in #if");
      return v;
    }
    if (t.text === '-') return wrap({ v: -this.primary().v, unsigned: false });
    if (t.text === '+') return this.primary();
    if (t.text === '~') {
      const x = this.primary();
      return wrap({ v: ~x.v, unsigned: x.unsigned });
    }
    if (t.text === '!') return { v: this.primary().v === 0n ? 1n : 0n, unsigned: false };
    throw new PpExprError(`unexpected '${t.text}' in #if`);
  }
  binary(minPrec: number): Val {
    let left = this.primary();
    for (;;) {
      const op = this.peek();
      const prec = op !== undefined ? BINARY[op] : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.i++;
      if (op === '&&' && left.v === 0n) {
        this.unevaluated(() => this.binary(prec + 1));
        left = { v: 0n, unsigned: false };
        continue;
      }
      if (op === '||' && left.v !== 0n) {
        this.unevaluated(() => this.binary(prec + 1));
        left = { v: 1n, unsigned: false };
        continue;
      }
      left = apply(op as string, left, this.binary(prec + 1), this.skipping > 0);
    }
  }
  conditional(): Val {
    const c = this.binary(1);
    if (this.peek() !== '?') return c;
    this.i++;
    const taken = c.v !== 0n;
    const arm = (evaluated: boolean): Val =>
      this.nest(() => (evaluated ? this.conditional() : this.unevaluated(() => this.conditional())));
    const a = arm(taken);
    if (this.toks[this.i++]?.text !== ':') throw new PpExprError("missing ':' in #if");
    const b = arm(!taken);
    const r = c.v !== 0n ? a : b;
    return { v: r.v, unsigned: a.unsigned || b.unsigned };
  }
  comma(): Val {
    let v = this.conditional();
    while (this.peek() === ',') {
      this.i++;
      v = this.conditional();
    }
    return v;
  }
}

function apply(op: string, a: Val, b: Val, unevaluated = false): Val {
  const unsigned = a.unsigned || b.unsigned;
  const x = unsigned ? BigInt.asUintN(64, a.v) : a.v;
  const y = unsigned ? BigInt.asUintN(64, b.v) : b.v;
  const bool = (c: boolean): Val => ({ v: c ? 1n : 0n, unsigned: false });
  switch (op) {
    case '*':
      return wrap({ v: x * y, unsigned });
    case '/':
    case '%':
      if (y === 0n) {
        if (unevaluated) return { v: 0n, unsigned };
        throw new PpExprError('division by zero in #if');
      }
      return wrap({ v: op === '/' ? x / y : x % y, unsigned });
    case '+':
      return wrap({ v: x + y, unsigned });
    case '-':
      return wrap({ v: x - y, unsigned });
    case '<<':
      return wrap({ v: x << (b.v & 63n), unsigned: a.unsigned });
    case '>>':
      return wrap({ v: x >> (b.v & 63n), unsigned: a.unsigned });
    case '<':
      return bool(x < y);
    case '>':
      return bool(x > y);
    case '<=':
      return bool(x <= y);
    case '>=':
      return bool(x >= y);
    case '==':
      return bool(x === y);
    case '!=':
      return bool(x !== y);
    case '&':
      return wrap({ v: x & y, unsigned });
    case '^':
      return wrap({ v: x ^ y, unsigned });
    case '|':
      return wrap({ v: x | y, unsigned });
    case '&&':
      return bool(x !== 0n && y !== 0n);
    case '||':
      return bool(x !== 0n || y !== 0n);
  }
  throw new PpExprError(`unknown operator '${op}' in #if`);
}

/** Evaluates the expanded tokens of a `#if` (no newlines or comments in them). */
export function evaluatePpExpr(toks: PpToken[]): boolean {
  const meaningful = toks.filter((t) => t.kind !== 'comment' && t.kind !== 'newline');
  if (meaningful.length === 0) throw new PpExprError('#if with no expression');
  const p = new ExprParser(meaningful);
  const v = p.comma();
  if (p.i < meaningful.length) throw new PpExprError(`unexpected '${meaningful[p.i].text}' in #if`);
  return v.v !== 0n;
}
