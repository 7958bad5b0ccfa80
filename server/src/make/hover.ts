// Hover for make files: on a variable reference or an assignment's name, where the variable is set,
// its flavor and its value at that point (unknown parts shown as ⟨LABEL⟩).
// Names and values are workspace text: they are always rendered as code spans (inlineCode), never as
// markdown, so `[x](https://…)`, `![](…)`, HTML or a backtick in a value cannot make a live link,
// load an image or end the code span early.

import type { Expr, ExprPart, Makefile, Pos, Span } from './ast';
import type { AssignmentRecord, Evaluation } from './evaluator';
import { statementExprs, walkStatements } from './parser';
import { displayValue } from './values';

function before(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character <= b.character);
}
function spanContains(s: Span, p: Pos): boolean {
  return before(s.start, p) && before(p, s.end);
}

/** The innermost reference (or `$(call NAME,...)`) at `pos` in an expression. */
function refAt(e: Expr, pos: Pos): { part: ExprPart; nameExpr: Expr } | null {
  for (const p of e) {
    if (!spanContains(p.span, pos)) continue;
    if (p.kind === 'text') return null;
    if (p.kind === 'ref') return refAt(p.name, pos) ?? { part: p, nameExpr: p.name };
    if (p.kind === 'substRef')
      return refAt(p.name, pos) ?? refAt(p.from, pos) ?? refAt(p.to, pos) ?? { part: p, nameExpr: p.name };
    for (const a of p.args) {
      const r = refAt(a, pos);
      if (r) return r;
    }
    if (p.fn === 'call' && p.args[0]) return { part: p, nameExpr: p.args[0] };
    return null;
  }
  return null;
}

function clip(s: string, n = 800): string {
  return s.length > n ? s.slice(0, n) + ' …' : s;
}

/**
 * Workspace text as a markdown code span that nothing in it can break out of: the fence is one
 * backtick longer than the longest run of backticks inside (CommonMark), line breaks become ⏎ (a
 * blank line would end the paragraph and with it the span), and a space pads the content when it
 * starts or ends with a backtick or a space. Inside a code span, markdown, HTML, entities and
 * backslash escapes are all literal. Empty text is shown as *(empty)*.
 */
export function inlineCode(text: string): string {
  const s = text.replace(/\r\n|\r|\n/g, '⏎');
  if (s === '') return '*(empty)*';
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ')) ? ' ' : '';
  return fence + pad + s + pad + fence;
}

function describe(ev: Evaluation, name: string, value: string | undefined, current: AssignmentRecord | null): string {
  const def = ev.variables.get(name);
  const lines: string[] = [];
  const shown = displayValue(name);
  if (def) {
    lines.push(
      `**${inlineCode(shown)}** — ${def.flavor} variable${def.origin === 'initial' ? ' (given by the caller)' : ''}`,
    );
    const set = def.history.map(
      (h) => `${(h.line ?? h.stmt.span.start.line) + 1} (\`${h.stmt.kind === 'define' ? 'define' : h.stmt.op}\`)`,
    );
    if (set.length) lines.push(`Set on line${set.length > 1 ? 's' : ''} ${set.join(', ')}`);
  } else {
    lines.push(`**${inlineCode(shown)}** — not set in this file`);
  }
  if (current) lines.push(`Value after this line: ${inlineCode(clip(displayValue(current.valueAfter)))}`);
  else if (value !== undefined) lines.push(`Value here: ${inlineCode(clip(displayValue(value)))}`);
  else lines.push(`Value here: ${inlineCode(clip(displayValue(ev.expand(`$(${name})`))))} (not defined at this point)`);
  return lines.join('\n\n');
}

export interface HoverResult {
  markdown: string;
  range: Span;
  /** The variable the hover is about (plain text: render it with inlineCode). */
  variable: string;
}

/** Hover text for the variable at `pos`, or null when there is none. */
export function hoverAt(mf: Makefile, ev: Evaluation, pos: Pos): HoverResult | null {
  let found: HoverResult | null = null;
  walkStatements(mf.statements, (s) => {
    if (found || !spanContains(s.span, pos)) return;
    if ((s.kind === 'assignment' || s.kind === 'define') && spanContains(s.nameSpan, pos) && !refAt(s.name, pos)) {
      const name = ev.expand(s.name).trim();
      const rec = ev.variables.get(name)?.history.find((h) => h.stmt === s) ?? null;
      found = {
        markdown: describe(ev, name, ev.valueAt(name, s.span.start.line + 1), rec),
        range: s.nameSpan,
        variable: name,
      };
      return;
    }
    for (const e of statementExprs(s)) {
      const r = refAt(e, pos);
      if (!r) continue;
      const name = ev.expand(r.nameExpr).trim();
      if (!name) return;
      found = {
        markdown: describe(ev, name, ev.valueAt(name, s.span.start.line), null),
        range: r.part.span,
        variable: name,
      };
      return;
    }
  });
  return found;
}
