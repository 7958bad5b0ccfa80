// Inactive branches: the lines of a conditional branch the build's configuration does not take,
// as Hint diagnostics tagged Unnecessary (VS Code shows them faded), code `inactive-branch`. Only
// branches make decides with this configuration: a condition that reads something unknown (the make
// command line, $(shell ...), a probe the model does not know) is never faded; without a
// configuration nothing is.
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { INACTIVE_BRANCH_CODE, SERVER_NAME } from '../lspExt';
import type { ConditionalStmt, Statement } from '../make/ast';
import type { Evaluation } from '../make/evaluator';
import type { Workspace } from '../workspace';
import { configuredModel } from './configModel';

/** The body lines of each branch make does not take (outermost only: a dead branch's inner ones are inside it). */
export function inactiveRanges(
  statements: Statement[],
  evaluation: Evaluation,
): { first: number; last: number; test: string }[] {
  const out: { first: number; last: number; test: string }[] = [];
  const stack: Statement[][] = [statements];
  while (stack.length > 0) {
    for (const s of stack.pop() as Statement[]) {
      if (s.kind !== 'conditional' || !s.terminated) continue;
      s.branches.forEach((b, i) => {
        const state = evaluation.branchLiveness(b);
        if (state === 'live') stack.push(b.body);
        if (state !== 'dead') return;
        const range = bodyLines(s, i);
        if (range.first <= range.last) out.push({ ...range, test: b.test ? b.test.kind : 'else' });
      });
    }
  }
  return out.sort((a, b) => a.first - b.first);
}

/** Lines between a branch's directive and the next one (or endif). */
function bodyLines(s: ConditionalStmt, i: number): { first: number; last: number } {
  const b = s.branches[i];
  const first = (b.test ? b.test.span.end.line : b.span.start.line) + 1;
  const last = i === s.branches.length - 1 ? b.span.end.line - 1 : b.span.end.line;
  return { first, last };
}

export async function inactiveBranchDiagnostics(ws: Workspace, doc: TextDocument): Promise<Diagnostic[]> {
  const model = await configuredModel(ws, doc);
  // An evaluation cut by its bounds decides nothing for sure.
  if (!model || model.evaluation.incomplete) return [];
  const { makefile } = ws.models.of(doc);
  return inactiveRanges(makefile.statements, model.evaluation).map(({ first, last }) => ({
    range: { start: { line: first, character: 0 }, end: { line: last, character: lineLength(doc, last) } },
    severity: DiagnosticSeverity.Hint,
    tags: [DiagnosticTag.Unnecessary],
    source: SERVER_NAME,
    code: INACTIVE_BRANCH_CODE,
    message: `Not taken by this build's configuration (${model.configuration.source})`,
  }));
}

function lineLength(doc: TextDocument, line: number): number {
  const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  return text.replace(/\r?\n$/, '').length;
}
