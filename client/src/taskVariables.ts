// `${command:kbuildDiagnostics.buildDirectoryForTasks}`: the directory the $kbuild problem matchers
// resolve relative paths against (package.json, fileLocation). Kbuild prints paths relative to the
// build directory (O=, or the tree itself), and VS Code's own variables cannot name it: `${cwd}` is
// VS Code's working directory, not the task's (microsoft/vscode#145229). The task system resolves the
// matchers' variables, commands included, when a task starts (terminalTaskSystem.ts,
// _collectMatcherVariables). The answer: the configured build directory, else the one build
// directory the server found, else the first workspace folder (an in-tree build).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { listBuildDirectories, SETTINGS_SECTION } from '../../server/src/lspExt';
import { request } from './requests';

const BUILD_DIRECTORY_FOR_TASKS = 'kbuildDiagnostics.buildDirectoryForTasks';

async function buildDirectoryForTasks(getClient: () => LanguageClient | undefined): Promise<string> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const configured = vscode.workspace.isTrusted
    ? vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string>('buildDirectory', '')
    : '';
  if (configured) return path.resolve(folder, configured);
  const client = getClient();
  if (client?.isRunning()) {
    try {
      const { builds } = await request(client, listBuildDirectories, {});
      const dirs = builds.filter((b) => b.sourceUri).map((b) => vscode.Uri.parse(b.uri).fsPath);
      if (dirs.length === 1) return dirs[0];
    } catch {
      // The server is busy or gone: fall back to the workspace folder.
    }
  }
  return folder;
}

export function registerTaskVariables(
  context: vscode.ExtensionContext,
  getClient: () => LanguageClient | undefined,
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(BUILD_DIRECTORY_FOR_TASKS, () => buildDirectoryForTasks(getClient)),
  );
}
