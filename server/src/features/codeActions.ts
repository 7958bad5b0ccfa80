// Quick-fixes for the nvhe rule (form A preferred, form B) and source.fixAll (form A).
// Each edit names the document version it was computed for, so a stale edit is refused by the client.
import { CodeActionKind, type CodeAction, type Diagnostic, type TextDocumentEdit } from 'vscode-languageserver';
import { RULE_CODE } from '../rules/nvheProfileMetadata';
import { ALIAS_CODE } from '../rules/nvheDiagnostic';
import { FIX_TITLES, type FixForm } from '../rules/nvheFixes';
import { uriToPath, type Workspace } from '../workspace';
import { fixForFile } from './fixes';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.kbuild-diagnostics`;

function isRuleDiagnostic(d: Diagnostic): boolean {
  return d.code === RULE_CODE || d.code === ALIAS_CODE;
}

export function registerCodeActions(ws: Workspace): void {
  ws.connection.onCodeAction(async (params) => {
    const file = uriToPath(params.textDocument.uri);
    const doc = ws.documents.get(params.textDocument.uri);
    if (!file || !doc) return [];
    const only = params.context.only;
    const wantsQuickFix = !only || only.some((k) => CodeActionKind.QuickFix.startsWith(k));
    const wantsFixAll = only?.some((k) => FIX_ALL_KIND.startsWith(k) || k === CodeActionKind.SourceFixAll) ?? false;
    const diagnostics = params.context.diagnostics.filter(isRuleDiagnostic);
    const actions: CodeAction[] = [];
    const make = async (form: FixForm, kind: string, preferred: boolean): Promise<CodeAction | undefined> => {
      const f = await fixForFile(ws, file, form);
      // The document moved on while the fix was computed: offer nothing rather than a stale edit.
      if (!f || f.version !== doc.version) return undefined;
      const change: TextDocumentEdit = { textDocument: { uri: doc.uri, version: doc.version }, edits: f.fix.edits };
      return {
        title: kind === FIX_ALL_KIND ? `${FIX_TITLES[form]} (fix all)` : FIX_TITLES[form],
        kind,
        diagnostics: kind === FIX_ALL_KIND ? undefined : diagnostics,
        isPreferred: preferred,
        edit: { documentChanges: [change] },
      };
    };
    if (wantsQuickFix && diagnostics.length > 0) {
      for (const form of ['A', 'B'] as const) {
        const a = await make(form, CodeActionKind.QuickFix, form === 'A');
        if (a) actions.push(a);
      }
    }
    if (wantsFixAll) {
      const a = await make('A', FIX_ALL_KIND, false);
      if (a) actions.push(a);
    }
    return actions;
  });
}
