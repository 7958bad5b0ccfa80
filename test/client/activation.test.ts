// The client registers every command before it starts the language server, so a server that fails
// to start leaves commands that answer (with a clear message) instead of "command not found". The
// real extension bundle is loaded with a stand-in for the `vscode` module (the test is about the
// extension's wiring, not about VS Code): a proxy that accepts any call and records command
// registrations, messages, and when the language client starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';

type Fn = (...args: unknown[]) => unknown;

function fakeVscode(log: string[], commands: Map<string, Fn>): unknown {
  const make = (path: string): unknown =>
    new Proxy(function () {} as unknown as object, {
      get(_t, prop) {
        if (prop === 'then' || typeof prop === 'symbol') return undefined;
        const p = `${path}.${String(prop)}`;
        if (p === 'vscode.commands.registerCommand') {
          return (id: string, fn: Fn) => {
            commands.set(id, fn);
            log.push(`register ${id}`);
            return { dispose() {} };
          };
        }
        if (
          p === 'vscode.window.showWarningMessage' ||
          p === 'vscode.window.showErrorMessage' ||
          p === 'vscode.window.showInformationMessage'
        ) {
          return (msg: string) => {
            log.push(`message ${msg}`);
            return Promise.resolve(undefined);
          };
        }
        if (p === 'vscode.workspace.isTrusted') return true;
        if (p === 'vscode.workspace.workspaceFolders') return [];
        if (p === 'vscode.version') return '1.91.0';
        if (p.endsWith('.get')) return (_k: string, d: unknown) => d;
        return make(p);
      },
      apply(_t, _this, args) {
        if (path.endsWith('.asAbsolutePath')) return join('/nonexistent', String(args[0]));
        return make(`${path}()`);
      },
      construct() {
        return make(`new ${path}`) as object;
      },
    });
  // A plain object with the API's namespaces as own properties (bundlers copy a module's own keys).
  const names = [
    'commands',
    'window',
    'workspace',
    'languages',
    'env',
    'extensions',
    'l10n',
    'tasks',
    'debug',
    'scm',
    'authentication',
    'tests',
    'notebooks',
    'chat',
    'lm',
    'Uri',
    'Range',
    'Position',
    'Location',
    'Selection',
    'Diagnostic',
    'DiagnosticSeverity',
    'DiagnosticRelatedInformation',
    'DiagnosticTag',
    'Disposable',
    'EventEmitter',
    'CancellationTokenSource',
    'CancellationError',
    'CodeAction',
    'CodeActionKind',
    'CodeActionTriggerKind',
    'TreeItem',
    'TreeItemCollapsibleState',
    'ThemeIcon',
    'ThemeColor',
    'MarkdownString',
    'WorkspaceEdit',
    'TextEdit',
    'ConfigurationTarget',
    'ProgressLocation',
    'StatusBarAlignment',
    'RelativePattern',
    'FileSystemError',
    'DocumentSymbol',
    'SymbolInformation',
    'SymbolKind',
    'SymbolTag',
    'Hover',
    'CompletionItem',
    'CompletionItemKind',
    'CompletionList',
    'SnippetString',
    'ViewColumn',
    'UIKind',
    'LogLevel',
    'TextDocumentSaveReason',
    'FileType',
    'SemanticTokens',
    'SemanticTokensLegend',
    'SemanticTokensEdit',
    'SemanticTokensEdits',
    'CallHierarchyItem',
    'TypeHierarchyItem',
    'InlayHint',
    'InlayHintKind',
    'InlayHintLabelPart',
    'InlineValueText',
    'InlineValueVariableLookup',
    'InlineValueEvaluatableExpression',
    'InlineCompletionItem',
    'DocumentLink',
    'Color',
    'ColorInformation',
    'ColorPresentation',
    'FoldingRange',
    'FoldingRangeKind',
    'SelectionRange',
    'LinkedEditingRanges',
    'SignatureHelp',
    'SignatureInformation',
    'ParameterInformation',
    'DocumentHighlight',
    'DocumentHighlightKind',
    'CodeLens',
    'CompletionTriggerKind',
    'SignatureHelpTriggerKind',
    'InsertTextFormat',
    'TextDocumentChangeReason',
    'NotebookCellKind',
    'NotebookCellData',
    'NotebookData',
    'NotebookRange',
    'NotebookCellOutput',
    'NotebookCellOutputItem',
    'NotebookEdit',
    'EndOfLine',
    'IndentAction',
    'OverviewRulerLane',
    'DecorationRangeBehavior',
    'TextEditorRevealType',
    'version',
  ];
  const api: Record<string, unknown> = {};
  for (const n of names) api[n] = n === 'version' ? '1.91.0' : make(`vscode.${n}`);
  return api;
}

test('commands are registered before the server starts, and answer when it did not start', async () => {
  const log: string[] = [];
  const commands = new Map<string, Fn>();
  const vscode = fakeVscode(log, commands);
  const original = (Module as unknown as { _load: Fn })._load;
  (Module as unknown as { _load: Fn })._load = function (request: unknown, ...rest: unknown[]) {
    if (request === 'vscode') return vscode;
    return original.call(this, request, ...rest);
  };
  try {
    const ext = Module.createRequire(__filename)(join(root, 'client', 'out', 'extension.js')) as {
      activate(ctx: unknown): Promise<void>;
    };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string }[] };
    };
    const context = {
      subscriptions: [] as unknown[],
      extension: { packageJSON: pkg },
      asAbsolutePath: (p: string) => join('/nonexistent', p),
    };
    // The server module does not exist: the client cannot start it.
    await Promise.race([
      ext.activate(context).catch((e: unknown) => log.push(`activate threw ${String(e)}`)),
      new Promise((r) => setTimeout(r, 3000)),
    ]);
    for (const c of pkg.contributes.commands)
      assert.ok(commands.has(c.command), `${c.command} is registered; log:\n${log.slice(0, 30).join('\n')}`);
    // A command that needs the server says it is not running (instead of failing or hanging).
    await commands.get('kbuildDiagnostics.applyFixA')?.();
    assert.ok(
      log.some((l) => /^message The Kbuild Diagnostics server is not running/.test(l)),
      log.filter((l) => l.startsWith('message')).join('\n'),
    );
  } finally {
    (Module as unknown as { _load: Fn })._load = original;
  }
});
