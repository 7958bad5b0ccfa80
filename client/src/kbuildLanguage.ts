// Makefiles inside a kernel tree are Kbuild files: switch them to the `kbuild` language so they get
// the Kbuild grammar. Makefiles elsewhere keep VS Code's own `makefile` language.
import * as path from 'node:path';
import * as vscode from 'vscode';

const MARKERS = ['Kbuild', path.join('scripts', 'Kbuild.include')];

async function isFile(uri: vscode.Uri): Promise<boolean> {
  try {
    return (await vscode.workspace.fs.stat(uri)).type === vscode.FileType.File;
  } catch {
    return false;
  }
}

/** True when a folder above the document (up to its workspace folder) has Kbuild markers. */
async function inKernelTree(doc: vscode.TextDocument): Promise<boolean> {
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
  if (!folder || doc.uri.scheme !== 'file') return false;
  let dir = path.dirname(doc.uri.fsPath);
  const top = folder.uri.fsPath;
  for (let i = 0; i < 32 && dir.startsWith(top); i++) {
    for (const m of MARKERS) if (await isFile(vscode.Uri.file(path.join(dir, m)))) return true;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return false;
}

function looksLikeKbuildFile(doc: vscode.TextDocument): boolean {
  const name = path.basename(doc.uri.fsPath);
  return doc.languageId === 'makefile' && (name === 'Makefile' || name.startsWith('Makefile.') || name.endsWith('.mk'));
}

export function registerKbuildLanguage(context: vscode.ExtensionContext): void {
  const check = async (doc: vscode.TextDocument) => {
    if (looksLikeKbuildFile(doc) && (await inKernelTree(doc)))
      await vscode.languages.setTextDocumentLanguage(doc, 'kbuild');
  };
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument((d) => void check(d)));
  for (const d of vscode.workspace.textDocuments) void check(d);
}
