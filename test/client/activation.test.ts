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

function fakeVscode(
  log: string[],
  commands: Map<string, Fn>,
  opts: { trusted?: boolean; taskProviders?: Map<string, { provideTasks: Fn }> } = {},
): unknown {
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
        if (p === 'vscode.tasks.registerTaskProvider') {
          return (type: string, provider: { provideTasks: Fn }) => {
            opts.taskProviders?.set(type, provider);
            log.push(`task provider ${type}`);
            return { dispose() {} };
          };
        }
        if (p === 'vscode.tasks.executeTask') {
          return () => {
            log.push('executeTask');
            return Promise.resolve(undefined);
          };
        }
        if (p === 'vscode.workspace.isTrusted') return opts.trusted ?? true;
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

/** Loads the real extension bundle against `vscode` and activates it (its server cannot start). */
async function activateWith(vscode: unknown, log: string[]): Promise<{ commands: { command: string }[] }> {
  const original = (Module as unknown as { _load: Fn })._load;
  (Module as unknown as { _load: Fn })._load = function (request: unknown, ...rest: unknown[]) {
    if (request === 'vscode') return vscode;
    return original.call(this, request, ...rest);
  };
  try {
    const bundle = join(root, 'client', 'out', 'extension.js');
    const req = Module.createRequire(__filename);
    delete req.cache[req.resolve(bundle)];
    const ext = req(bundle) as { activate(ctx: unknown): Promise<void> };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string }[] };
    };
    const context = {
      subscriptions: [] as unknown[],
      extension: { packageJSON: pkg },
      asAbsolutePath: (p: string) => join('/nonexistent', p),
    };
    await Promise.race([
      ext.activate(context).catch((e: unknown) => log.push(`activate threw ${String(e)}`)),
      new Promise((r) => setTimeout(r, 3000)),
    ]);
    return pkg.contributes;
  } finally {
    (Module as unknown as { _load: Fn })._load = original;
  }
}

test('untrusted workspace: the kbuild task provider offers nothing, rebuild refuses, nothing runs by itself', async () => {
  const log: string[] = [];
  const commands = new Map<string, Fn>();
  const taskProviders = new Map<string, { provideTasks: Fn }>();
  await activateWith(fakeVscode(log, commands, { trusted: false, taskProviders }), log);
  const provider = taskProviders.get('kbuild');
  assert.ok(provider, `a provider for tasks of type kbuild; log:\n${log.slice(0, 30).join('\n')}`);
  assert.deepEqual(await provider.provideTasks(), []);
  assert.ok(!log.includes('executeTask'), 'activation runs no task');
  const client = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { taskDefinitions: { type: string; required: string[] }[] };
  };
  assert.deepEqual(
    client.contributes.taskDefinitions.map((d) => [d.type, d.required]),
    [['kbuild', ['directory']]],
  );
  await commands.get('kbuildDiagnostics.rebuild')?.({ makefileUri: 'file:///k/arch/arm64/kvm/hyp/nvhe/Makefile' });
  assert.ok(!log.includes('executeTask'), 'the rebuild command runs nothing untrusted');
  assert.ok(
    log.some((l) => /^message Kbuild Diagnostics runs builds only in trusted workspaces/.test(l)),
    log.filter((l) => l.startsWith('message')).join('\n'),
  );
});

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
    // A fresh load: the bundle binds the `vscode` it was loaded with (another test loads it too).
    const req = Module.createRequire(__filename);
    delete req.cache[req.resolve(join(root, 'client', 'out', 'extension.js'))];
    const ext = req(join(root, 'client', 'out', 'extension.js')) as {
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
