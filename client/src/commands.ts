// Commands that forward to the server: apply a fix form, write the fix as a patch, reveal the
// Makefile line that lets the metadata through, pick the build directory.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { fixEdit, fixLocation, makePatch, type FixForm, type LspRange, type VersionedEdit } from '../../server/src/lspExt';
import { request } from './requests';

function toRange(r: LspRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** Applies a server edit only if the document is still at the version the edit was made for. */
export async function applyVersionedEdit(edit: VersionedEdit): Promise<boolean> {
  const uri = vscode.Uri.parse(edit.uri);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (edit.version !== null && open && open.version !== edit.version) {
    void vscode.window.showWarningMessage('The Makefile changed while the fix was computed; try again.');
    return false;
  }
  const we = new vscode.WorkspaceEdit();
  for (const e of edit.edits) we.replace(uri, toRange(e.range), e.newText);
  return vscode.workspace.applyEdit(we);
}

function activeMakefileUri(arg?: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.toString();
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (doc.languageId === 'kbuild' || doc.languageId === 'makefile') ? doc.uri.toString() : undefined;
}

async function applyFix(client: LanguageClient, form: FixForm, arg?: unknown): Promise<boolean> {
  const result = await request(client, fixEdit, { makefileUri: activeMakefileUri(arg), form });
  if (!result.edit) {
    void vscode.window.showInformationMessage(result.reason ?? 'No fix to apply.');
    return false;
  }
  const ok = await applyVersionedEdit(result.edit);
  if (ok) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(result.edit.uri));
    await vscode.window.showTextDocument(doc, { preview: false });
  }
  return ok;
}

async function writePatch(client: LanguageClient, arg?: unknown): Promise<string | undefined> {
  let uri = activeMakefileUri(arg);
  if (!uri) {
    const loc = await request(client, fixLocation, {});
    uri = loc.location?.uri;
  }
  if (!uri) {
    void vscode.window.showInformationMessage('Open the nvhe Makefile first.');
    return undefined;
  }
  const pick =
    typeof arg === 'object' && arg !== null && 'form' in arg
      ? { form: (arg as { form: FixForm }).form }
      : await vscode.window.showQuickPick(
          [
            { label: 'Form A: filter the profile flags', form: 'A' as FixForm },
            { label: 'Form B: remove the section before gen-hyprel', form: 'B' as FixForm },
          ],
          { title: 'Write the fix as a patch for git am' },
        );
  if (!pick) return undefined;
  const result = await request(client, makePatch, { makefileUri: uri, form: pick.form });
  if (!result.patch || !result.fileName) {
    void vscode.window.showInformationMessage(result.reason ?? 'No patch to write.');
    return undefined;
  }
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(uri))?.uri ?? vscode.Uri.file(path.dirname(vscode.Uri.parse(uri).fsPath));
  const target = vscode.Uri.joinPath(folder, result.fileName);
  // Writing a new file outside the edited Makefile: ask first in an untrusted workspace.
  if (!vscode.workspace.isTrusted) {
    const answer = await vscode.window.showWarningMessage(`Write ${result.fileName} into ${folder.fsPath}?`, { modal: true }, 'Write');
    if (answer !== 'Write') return undefined;
  }
  await vscode.workspace.fs.writeFile(target, Buffer.from(result.patch, 'utf8'));
  await vscode.window.showTextDocument(target, { preview: false });
  return target.fsPath;
}

async function revealFixLocation(client: LanguageClient): Promise<void> {
  const result = await request(client, fixLocation, {});
  if (!result.location) {
    void vscode.window.showInformationMessage('No nvhe Makefile lets profile metadata through.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(result.location.uri));
  const range = toRange(result.location.range);
  await vscode.window.showTextDocument(doc, { selection: range, preview: false });
}

async function pickBuildDirectory(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Kernel build directory (O=)' });
  if (!picked?.[0]) return;
  await vscode.workspace.getConfiguration('kbuildDiagnostics').update('buildDirectory', picked[0].fsPath, vscode.ConfigurationTarget.Workspace);
}

export function registerCommands(context: vscode.ExtensionContext, client: LanguageClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('kbuildDiagnostics.applyFixA', (arg?: unknown) => applyFix(client, 'A', arg)),
    vscode.commands.registerCommand('kbuildDiagnostics.applyFixB', (arg?: unknown) => applyFix(client, 'B', arg)),
    vscode.commands.registerCommand('kbuildDiagnostics.writePatch', (arg?: unknown) => writePatch(client, arg)),
    vscode.commands.registerCommand('kbuildDiagnostics.revealFixLocation', () => revealFixLocation(client)),
    vscode.commands.registerCommand('kbuildDiagnostics.pickBuildDirectory', () => pickBuildDirectory()),
  );
}
