// The thin VS Code client (the hub): starts the language server and wires the client features.
// All analysis happens in the server; these files only forward requests and show results.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { registerCommands } from './commands';
import { registerKbuildLanguage } from './kbuildLanguage';
import { restartingErrorHandler } from './serverHealth';
import { registerSectionExplorer } from './sectionExplorer';

let client: LanguageClient | undefined;

function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration('kbuildDiagnostics');
  // Paths from an untrusted workspace's settings are not used (machine-scoped values still are).
  const buildDirectory = vscode.workspace.isTrusted ? config.get<string>('buildDirectory', '') : config.inspect<string>('buildDirectory')?.globalValue ?? '';
  return { buildDirectory, debounceMs: config.get<number>('debounceMs', 150) };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('server', 'out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6011'] } },
  };
  const output = vscode.window.createOutputChannel('Kbuild Diagnostics', { log: true });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'kbuild' },
      { scheme: 'file', language: 'makefile' },
    ],
    initializationOptions: serverSettings(),
    outputChannel: output,
    errorHandler: restartingErrorHandler(output),
  };
  client = new LanguageClient('kbuildDiagnostics', 'Kbuild Diagnostics', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kbuildDiagnostics') && client?.isRunning()) {
        void client.sendNotification('workspace/didChangeConfiguration', { settings: { kbuildDiagnostics: serverSettings() } });
      }
    }),
  );
  registerKbuildLanguage(context);
  await client.start();
  registerCommands(context, client);
  registerSectionExplorer(context, client);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
