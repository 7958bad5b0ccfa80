// Quick-fixes and source.fixAll, for every rule's fixes. Computed from the document's current text
// (not from whatever diagnostics the client last saw), so they are there even while the debounced
// analysis is still pending. Each edit names the document version it was computed for, so a stale
// edit is refused by the client.
import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic,
  type Range,
  type TextDocumentEdit,
} from 'vscode-languageserver';
import { REBUILD_COMMAND, SERVER_NAME } from '../lspExt';
import type { FileAnalysis } from '../analysis';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { fixesForFile, isPreferred, titleOf } from './fixes';
import { tooLargeToAnalyze } from './documentModel';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.${SERVER_NAME}`;

function overlaps(a: Range, b: Range): boolean {
  const before = (x: Range['start'], y: Range['start']) =>
    x.line < y.line || (x.line === y.line && x.character < y.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/**
 * "Rebuild to confirm": for the diagnostics whose code a rule lists in `rebuildCodes` (evidence from
 * a build made before the Makefile changed), a command the client runs as the directory's build task.
 */
function rebuildActions(ws: Workspace, analysis: FileAnalysis, seen: Diagnostic[], range: Range): CodeAction[] {
  const codes = new Set(ws.rules.flatMap((r) => r.rebuildCodes ?? []));
  const here = analysis.diagnostics.filter(
    (d) => codes.has(String(d.code)) && (seen.some((s) => s.code === d.code) || overlaps(d.range, range)),
  );
  if (here.length === 0) return [];
  const dir = analysis.objDir === '.' ? 'the tree' : `${analysis.objDir}/`;
  return [
    {
      title: `Rebuild ${dir} to confirm (Kbuild build task)`,
      kind: CodeActionKind.QuickFix,
      diagnostics: here,
      command: {
        title: `Rebuild ${dir}`,
        command: REBUILD_COMMAND,
        arguments: [{ makefileUri: pathToUri(analysis.file) }],
      },
    },
  ];
}

export function registerCodeActions(ws: Workspace): void {
  ws.connection.onCodeAction(async (params) => {
    const file = uriToPath(params.textDocument.uri);
    const doc = ws.documents.get(params.textDocument.uri);
    if (!file || !doc) return [];
    const only = params.context.only;
    const wantsQuickFix = !only || only.some((k) => CodeActionKind.QuickFix.startsWith(k));
    const wantsFixAll = only?.some((k) => FIX_ALL_KIND.startsWith(k) || k === CodeActionKind.SourceFixAll) ?? false;
    if (!wantsQuickFix && !wantsFixAll) return [];
    // Not analyzed in the editor (see the file-too-large diagnostic), so no fix either.
    if (tooLargeToAnalyze(doc.getText())) return [];
    // The document may change while fixes are computed (each is checked by re-analysis): try again then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const version = doc.version;
      const known = ws.analyses.get(file);
      const analysis =
        known && known.version === version ? known : await ws.analyze(file, doc.getText(), undefined, version);
      const fixes = await fixesForFile(ws, file);
      const current = ws.documents.get(params.textDocument.uri);
      if (!current || current.version !== version) continue;
      const actions: CodeAction[] = [];
      for (const f of fixes) {
        const ruleDiagnostics: Diagnostic[] = (analysis.findings.get(f.rule.id)?.diagnostics ?? []).filter((d) =>
          f.rule.codes.includes(String(d.code)),
        );
        // Every file the fix edits (a rule's fix may edit a linker script beside the make file).
        const documentChanges: TextDocumentEdit[] = f.changes.map((c) => ({
          textDocument: { uri: c.uri, version: c.uri === doc.uri ? version : c.version },
          edits: c.edits,
        }));
        // Quick-fixes go with the rule's diagnostics the request's range touches. The fix was just
        // checked against the files as they are; the analysis may predate a build that has since
        // written them (it is refreshed once the build settles), so the diagnostics the client asks
        // about stand in when that analysis has none of the rule's.
        const asked = params.context.diagnostics.filter((d) => f.rule.codes.includes(String(d.code)));
        const here =
          asked.length === 0
            ? ruleDiagnostics.filter((d) => overlaps(d.range, params.range))
            : ruleDiagnostics.length > 0
              ? ruleDiagnostics
              : asked;
        if (wantsQuickFix && here.length > 0) {
          actions.push({
            title: titleOf(f),
            kind: CodeActionKind.QuickFix,
            diagnostics: here,
            isPreferred: isPreferred(f),
            edit: { documentChanges },
          });
        }
        if (wantsFixAll && f.def.fixAll && (ruleDiagnostics.length > 0 || asked.length > 0)) {
          actions.push({
            title: `${titleOf(f)} (fix all)`,
            kind: FIX_ALL_KIND,
            isPreferred: false,
            edit: { documentChanges },
          });
        }
      }
      actions.push(...(wantsQuickFix ? rebuildActions(ws, analysis, params.context.diagnostics, params.range) : []));
      return actions;
    }
    return [];
  });
}
