// Commands that forward to the server: apply a fix (one generic command, plus the ids package.json
// declares as `kbuildDiagnostics.applyFix<ID>` for keybindings), write a fix as a patch, reveal the
// line that lets a problem through, pick the build directory. Registered before the server starts:
// while it is not running, a command says so instead of "command not found".
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  APPLY_FIX_COMMAND,
  availableFixes,
  fixEdit,
  fixLocation,
  makePatch,
  SETTINGS_SECTION,
  type FixRef,
  type LspRange,
  type VersionedEdit,
} from '../../server/src/lspExt';
import { request } from './requests';

function toRange(r: LspRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/** The running client, or undefined after telling the user the server is not running. */
export type ClientRef = () => LanguageClient | undefined;

function running(getClient: ClientRef): LanguageClient | undefined {
  const client = getClient();
  if (client?.isRunning()) return client;
  void vscode.window.showWarningMessage(
    'The Kbuild Diagnostics server is not running (see the "Kbuild Diagnostics" output); try again once it has started.',
  );
  return undefined;
}

/**
 * Applies a server edit (and the edits of the other files the same fix changes, as one workspace
 * edit) only if each document is still at the version the edit was made for.
 */
async function applyVersionedEdit(edit: VersionedEdit, others: readonly VersionedEdit[] = []): Promise<boolean> {
  const we = new vscode.WorkspaceEdit();
  for (const one of [edit, ...others]) {
    const uri = vscode.Uri.parse(one.uri);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (one.version !== null && open && open.version !== one.version) {
      void vscode.window.showWarningMessage('The file changed while the fix was computed; try again.');
      return false;
    }
    for (const e of one.edits) we.replace(uri, toRange(e.range), e.newText);
  }
  return vscode.workspace.applyEdit(we);
}

function activeMakefileUri(arg?: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.toString();
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (doc.languageId === 'kbuild' || doc.languageId === 'makefile') ? doc.uri.toString() : undefined;
}

/** The fix named by `ref`, else one the user picks among those available. */
async function chooseFix(
  client: LanguageClient,
  makefileUri: string | undefined,
  ref: FixRef | undefined,
  title: string,
): Promise<FixRef | undefined> {
  if (ref) return ref;
  const { fixes } = await request(client, availableFixes, { makefileUri });
  if (fixes.length === 0) {
    void vscode.window.showInformationMessage('No fix applies: no problem a rule fixes was found here.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    fixes.map((f) => ({
      label: f.title,
      description: f.preferred ? 'preferred' : '',
      ref: { rule: f.rule, fix: f.fix },
    })),
    { title },
  );
  return picked?.ref;
}

function fixRefOf(arg: unknown): FixRef | undefined {
  if (typeof arg === 'object' && arg !== null && 'fix' in arg && typeof (arg as FixRef).fix === 'string') {
    const a = arg as FixRef;
    return { fix: a.fix, ...(typeof a.rule === 'string' ? { rule: a.rule } : {}) };
  }
  return undefined;
}

async function applyFix(client: LanguageClient, ref: FixRef | undefined, arg?: unknown): Promise<boolean> {
  const makefileUri = activeMakefileUri(arg);
  const chosen = await chooseFix(client, makefileUri, ref ?? fixRefOf(arg), 'Apply a fix');
  if (!chosen) return false;
  const result = await request(client, fixEdit, { makefileUri, ...chosen });
  if (!result.edit) {
    void vscode.window.showInformationMessage(result.reason ?? 'No fix to apply.');
    return false;
  }
  const ok = await applyVersionedEdit(result.edit, result.others);
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
    void vscode.window.showInformationMessage('Open the make file to fix first.');
    return undefined;
  }
  const chosen = await chooseFix(client, uri, fixRefOf(arg), 'Write the fix as a patch for git am');
  if (!chosen) return undefined;
  const result = await request(client, makePatch, { makefileUri: uri, ...chosen });
  if (!result.patch || !result.fileName) {
    void vscode.window.showInformationMessage(result.reason ?? 'No patch to write.');
    return undefined;
  }
  const folder =
    vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(uri))?.uri ??
    vscode.Uri.file(path.dirname(vscode.Uri.parse(uri).fsPath));
  const target = vscode.Uri.joinPath(folder, result.fileName);
  // Writing a new file outside the edited Makefile: ask first in an untrusted workspace.
  if (!vscode.workspace.isTrusted) {
    const answer = await vscode.window.showWarningMessage(
      `Write ${result.fileName} into ${folder.fsPath}?`,
      { modal: true },
      'Write',
    );
    if (answer !== 'Write') return undefined;
  }
  await vscode.workspace.fs.writeFile(target, Buffer.from(result.patch, 'utf8'));
  await vscode.window.showTextDocument(target, { preview: false });
  return target.fsPath;
}

async function revealFixLocation(client: LanguageClient): Promise<void> {
  const result = await request(client, fixLocation, {});
  if (!result.location) {
    void vscode.window.showInformationMessage('No make file in the workspace has a problem a rule reports.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(result.location.uri));
  const range = toRange(result.location.range);
  await vscode.window.showTextDocument(doc, { selection: range, preview: false });
}

async function pickBuildDirectory(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    title: 'Kernel build directory (O=)',
  });
  if (!picked?.[0]) return;
  await vscode.workspace
    .getConfiguration(SETTINGS_SECTION)
    .update('buildDirectory', picked[0].fsPath, vscode.ConfigurationTarget.Workspace);
}

export function registerCommands(context: vscode.ExtensionContext, getClient: ClientRef): void {
  const withClient =
    <A extends unknown[], R>(fn: (client: LanguageClient, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R | undefined> => {
      const client = running(getClient);
      return client ? fn(client, ...args) : undefined;
    };
  // `kbuildDiagnostics.applyFix<ID>` ids from package.json apply fix <ID> (aliases kept for keybindings).
  const declared: { command: string }[] =
    (context.extension.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ??
    [];
  const aliases = declared
    .map((c) => c.command)
    .filter((id) => id.startsWith(APPLY_FIX_COMMAND) && id.length > APPLY_FIX_COMMAND.length);
  context.subscriptions.push(
    vscode.commands.registerCommand(
      APPLY_FIX_COMMAND,
      withClient((client, arg?: unknown) => applyFix(client, undefined, arg)),
    ),
    ...aliases.map((id) =>
      vscode.commands.registerCommand(
        id,
        withClient((client, arg?: unknown) => applyFix(client, { fix: id.slice(APPLY_FIX_COMMAND.length) }, arg)),
      ),
    ),
    vscode.commands.registerCommand(
      'kbuildDiagnostics.writePatch',
      withClient((client, arg?: unknown) => writePatch(client, arg)),
    ),
    vscode.commands.registerCommand(
      'kbuildDiagnostics.revealFixLocation',
      withClient((client) => revealFixLocation(client)),
    ),
    vscode.commands.registerCommand('kbuildDiagnostics.pickBuildDirectory', () => pickBuildDirectory()),
  );
}
