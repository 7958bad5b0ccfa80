// The thin VS Code client (the hub): registers the commands and views, then starts the language
// server. All analysis happens in the server; these files only forward requests and show results.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { DEFAULT_SETTINGS, SETTINGS_SECTION } from '../../server/src/lspExt';
import { errorText } from '../../server/src/common/errors';
import { registerBuildTasks } from './buildTasks';
import { registerTaskVariables } from './taskVariables';
import { registerCommands } from './commands';
import { registerKbuildLanguage } from './kbuildLanguage';
import { restartingErrorHandler } from './serverHealth';
import { registerSectionExplorer } from './sectionExplorer';

let client: LanguageClient | undefined;

function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  // Paths from an untrusted workspace's settings are not used (machine-scoped values still are).
  const buildDirectory = vscode.workspace.isTrusted
    ? config.get<string>('buildDirectory', DEFAULT_SETTINGS.buildDirectory)
    : (config.inspect<string>('buildDirectory')?.globalValue ?? DEFAULT_SETTINGS.buildDirectory);
  return {
    buildDirectory,
    debounceMs: config.get<number>('debounceMs', DEFAULT_SETTINGS.debounceMs),
    configInlayHints: config.get<boolean>('configInlayHints', DEFAULT_SETTINGS.configInlayHints),
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('server', 'out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: {
      module: serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6011'] },
    },
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
  const lc = new LanguageClient('kbuildDiagnostics', 'Kbuild Diagnostics', serverOptions, clientOptions);
  client = lc;
  // Commands and views first: if the server cannot start they still answer, with a clear message.
  registerCommands(context, () => client);
  registerBuildTasks(context, () => client);
  registerTaskVariables(context, () => client);
  const explorer = registerSectionExplorer(context, lc);
  registerKbuildLanguage(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SETTINGS_SECTION) && lc.isRunning()) {
        void lc.sendNotification('workspace/didChangeConfiguration', {
          settings: { [SETTINGS_SECTION]: serverSettings() },
        });
      }
    }),
  );
  try {
    await lc.start();
  } catch (e) {
    output.error(`The language server did not start: ${errorText(e)}`);
    void vscode.window.showErrorMessage(
      'Kbuild Diagnostics: the language server did not start; see the "Kbuild Diagnostics" output.',
    );
    return;
  }
  explorer.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
