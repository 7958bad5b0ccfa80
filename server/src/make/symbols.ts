// Document symbols for a make file: variables, rules, cmd_*/quiet_cmd_* commands (kind Function),
// define blocks, with conditionals as containers (kind Namespace) so the outline mirrors the file.

import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver-types';
import type { ConditionTest, Expr, Makefile, Span, Statement } from './ast';
import { exprToText, walkStatements } from './parser';

const MAX_NEST = 64;

function exprSpan(e: Expr, fallback: Span): Span {
  if (e.length === 0) return { start: fallback.start, end: fallback.start };
  return { start: e[0].span.start, end: e[e.length - 1].span.end };
}

function short(s: string, n = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

/** Text of a conditional test, e.g. `ifeq ($(CONFIG_X),y)`. */
function testText(t: ConditionTest | null): string {
  if (!t) return 'else';
  if (t.kind === 'ifdef' || t.kind === 'ifndef') return `${t.kind} ${exprToText(t.args[0] ?? [])}`;
  return `${t.kind} (${exprToText(t.args[0] ?? [])},${exprToText(t.args[1] ?? [])})`;
}

function isCommandName(name: string): boolean {
  return /^(quiet_)?cmd_/.test(name) || /^savedcmd_/.test(name);
}

function symbolsOf(stmts: Statement[], depth: number, out: DocumentSymbol[]): void {
  for (const s of stmts) {
    switch (s.kind) {
      case 'assignment': {
        const name = s.nameText.trim() || '(empty)';
        out.push({
          name,
          detail:
            (s.targets ? `target-specific (${short(exprToText(s.targets), 40)}) ` : '') +
            `${s.op} ${short(s.valueText)}`,
          kind: isCommandName(name) ? SymbolKind.Function : SymbolKind.Variable,
          range: s.span,
          selectionRange: s.nameSpan,
        });
        break;
      }
      case 'define':
        out.push({
          name: s.nameText.trim() || '(empty)',
          detail: `define ${s.op}`,
          kind: SymbolKind.Function,
          range: s.span,
          selectionRange: s.nameSpan,
        });
        break;
      case 'rule':
        out.push({
          name: short(s.targetsText, 120) || '(no targets)',
          detail: `${s.doubleColon ? '::' : ':'} ${short(exprToText(s.prerequisites))}`,
          kind: SymbolKind.Method,
          range: s.span,
          selectionRange: exprSpan(s.targets, s.span),
        });
        break;
      case 'conditional': {
        const children: DocumentSymbol[] = [];
        for (const b of s.branches) {
          if (depth < MAX_NEST) symbolsOf(b.body, depth + 1, children);
          else {
            // Deeper than MAX_NEST the outline is flat; walked without recursion (thousands of nested
            // conditionals overflowed the stack here).
            walkStatements(b.body, (x) => {
              if (x.kind !== 'conditional') symbolsOf([x], depth + 1, out);
            });
          }
        }
        if (depth < MAX_NEST && children.length > 0) {
          const first = s.branches[0].test;
          out.push({
            name: short(testText(first), 100),
            kind: SymbolKind.Namespace,
            range: s.span,
            selectionRange: first ? first.span : s.span,
            children,
          });
        }
        break;
      }
      default:
        break;
    }
  }
}

/** Outline of a parsed make file. Pure; positions are the AST's (LSP) positions. */
export function documentSymbols(mf: Makefile): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  symbolsOf(mf.statements, 0, out);
  return out;
}
