// Hover (where a variable is set and its value there) and the outline of make files. Where a rule
// applies, its note for the hovered variable is added (e.g. which flags reach a pipeline's compiles).
import { MarkupKind, type Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { hoverAt } from '../make/hover';
import { documentSymbols } from '../make/symbols';
import { uriToPath, type Workspace } from '../workspace';

function ruleNotes(ws: Workspace, uri: string, variable: string): string[] {
  const file = uriToPath(uri);
  const findings = file ? ws.analyses.get(file)?.findings : undefined;
  const out: string[] = [];
  for (const f of findings?.values() ?? []) {
    const note = f.hoverNote?.(variable);
    if (note) out.push(note);
  }
  return out;
}

/** More hover text for a position (other features': the configuration, Kconfig), shown first. */
export type HoverPart = (ws: Workspace, doc: TextDocument, position: Position) => Promise<string | undefined>;

export function registerMakefileInfo(ws: Workspace, parts: readonly HoverPart[] = []): void {
  ws.connection.onHover(async (params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    if (!doc) return null;
    const more: string[] = [];
    for (const part of parts) {
      const text = await part(ws, doc, params.position);
      if (text) more.push(text);
    }
    const model = ws.models.of(doc);
    const h = hoverAt(model.makefile, model.evaluation, params.position);
    if (!h && more.length === 0) return null;
    const notes = h ? ruleNotes(ws, doc.uri, h.variable) : [];
    return {
      contents: { kind: MarkupKind.Markdown, value: [...more, ...(h ? [h.markdown] : []), ...notes].join('\n\n') },
      range: h?.range,
    };
  });
  ws.connection.onDocumentSymbol((params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    return doc ? documentSymbols(ws.models.of(doc).makefile) : [];
  });
}
