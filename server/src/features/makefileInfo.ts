// Hover (where a variable is set and its value there) and the outline of make files. On an nvhe
// Makefile, hovering a compiler-flags variable also says which profile-use flags reach the hyp code.
import { MarkupKind } from 'vscode-languageserver';
import { hoverAt } from '../make/hover';
import { documentSymbols } from '../make/symbols';
import { flagShape } from '../rules/nvheProfileMetadata';
import { uriToPath, type Workspace } from '../workspace';
import { documentModel } from './documentModel';

/** Variables that feed Kbuild's compile flags (scripts/Makefile.lib `_c_flags`). */
const FLAG_VARIABLE = /^(KBUILD_CFLAGS|KBUILD_CPPFLAGS|ccflags-y|ccflags-remove-y|CFLAGS_.+\.o|CFLAGS_REMOVE_.+\.o)$/;

function nvheNote(ws: Workspace, uri: string, variable: string): string | undefined {
  const file = uriToPath(uri);
  const verdict = file ? ws.analyses.get(file)?.verdict : undefined;
  if (!verdict || !FLAG_VARIABLE.test(variable)) return undefined;
  const through = [...new Set(verdict.leakingFlags.map(flagShape))];
  if (verdict.sectionRemoval) return `**nVHE:** ${verdict.sectionRemoval.how}, so profile flags${through.length ? ` (${through.join(', ')} get through)` : ''} do no harm.`;
  if (through.length === 0) return '**nVHE:** no profile-use flag from KBUILD_CFLAGS/KCFLAGS reaches the hyp compiles.';
  return `**nVHE:** these profile-use flags reach the hyp compiles: ${through.map((f) => `\`${f}\``).join(', ')} (see the \`nvhe-profile-metadata\` diagnostic).`;
}

export function registerMakefileInfo(ws: Workspace): void {
  ws.connection.onHover((params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    if (!doc) return null;
    const model = documentModel(doc);
    const h = hoverAt(model.makefile, model.evaluation, params.position);
    if (!h) return null;
    const variable = /^\*\*`([^`]+)`\*\*/.exec(h.markdown)?.[1] ?? '';
    const note = nvheNote(ws, doc.uri, variable);
    return { contents: { kind: MarkupKind.Markdown, value: note ? `${h.markdown}\n\n${note}` : h.markdown }, range: h.range };
  });
  ws.connection.onDocumentSymbol((params) => {
    const doc = ws.documents.get(params.textDocument.uri);
    return doc ? documentSymbols(documentModel(doc).makefile) : [];
  });
}
