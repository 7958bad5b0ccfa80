// Where a make file names a configuration option: each `$(CONFIG_X)` reference and each `CONFIG_X`
// tested by ifdef/ifndef, with its exact span (pure: the syntax tree only).
import type { Expr, Makefile, Span } from '../make/ast';
import { statementExprs, walkStatements } from '../make/parser';

export interface ConfigReference {
  /** The option's full name (CONFIG_X). */
  name: string;
  span: Span;
}

const CONFIG_NAME = /^CONFIG_[A-Za-z0-9_]+$/;

function inExpr(e: Expr, out: ConfigReference[]): void {
  for (const p of e) {
    if (p.kind === 'ref' || p.kind === 'substRef') {
      const n = p.name.length === 1 && p.name[0].kind === 'text' ? p.name[0].text : '';
      if (p.kind === 'ref' && CONFIG_NAME.test(n)) out.push({ name: n, span: p.span });
      else inExpr(p.name, out);
      if (p.kind === 'substRef') {
        inExpr(p.from, out);
        inExpr(p.to, out);
      }
    } else if (p.kind === 'call') for (const a of p.args) inExpr(a, out);
  }
}

/** Every configuration option the file names, in document order. */
export function configReferences(mf: Makefile): ConfigReference[] {
  const out: ConfigReference[] = [];
  walkStatements(mf.statements, (s) => {
    if (s.kind === 'conditional') {
      for (const b of s.branches) {
        if (!b.test) continue;
        if (b.test.kind === 'ifdef' || b.test.kind === 'ifndef') {
          const a = b.test.args[0] ?? [];
          const only = a.length === 1 && a[0].kind === 'text' ? a[0] : undefined;
          const name = only?.text.trim() ?? '';
          if (only && CONFIG_NAME.test(name) && only.span.start.line === only.span.end.line) {
            const at = only.span.start.character + only.text.indexOf(name);
            out.push({
              name,
              span: {
                start: { line: only.span.start.line, character: at },
                end: { line: only.span.start.line, character: at + name.length },
              },
            });
            continue;
          }
        }
        for (const a of b.test.args) inExpr(a, out);
      }
      return;
    }
    // Conditional tests were read above (an ifdef's bare name is a reference too).
    for (const e of statementExprs(s)) inExpr(e, out);
  });
  return out.sort((x, y) => x.span.start.line - y.span.start.line || x.span.start.character - y.span.start.character);
}
