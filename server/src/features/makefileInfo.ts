// Hover (where a variable is set and its value there) and the outline of make files.
import { MarkupKind } from 'vscode-languageserver';
import { hoverAt } from '../make/hover';
import { documentSymbols } from '../make/symbols';
import type { Workspace } from '../workspace';
import { documentModel } from './documentModel';

export function registerMakefileInfo(ws: Workspace): void {
  ws.connection.onHover((params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    if (!doc) return null;
    const model = documentModel(doc);
    const h = hoverAt(model.makefile, model.evaluation, params.position);
    return h ? { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: h.range } : null;
  });
  ws.connection.onDocumentSymbol((params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    return doc ? documentSymbols(documentModel(doc).makefile) : [];
  });
}
