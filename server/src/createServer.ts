// The language server hub: wires each feature (one feature, one file under features/) to a
// connection, for the rules it is given. Editor-neutral and transport-neutral: server.ts runs it over
// stdio/IPC; tests can run it in-process over a stream pair.
import * as path from 'node:path';
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache, mayApply } from './analysis';
import { registerBuildOutput } from './features/buildOutput';
import { registerCodeActions, FIX_ALL_KIND } from './features/codeActions';
import { forgetConfiguredModel } from './features/configModel';
import { registerConfigInlayHints } from './features/configInlayHints';
import { registerDiagnostics } from './features/diagnostics';
import { inactiveBranchDiagnostics } from './features/inactiveBranches';
import { kconfigHover, registerKconfigNavigation } from './features/kconfigNavigation';
import { forgetDocument } from './features/documentModel';
import { registerFixRequests } from './features/fixRequests';
import { registerMakefileInfo } from './features/makefileInfo';
import { publishDiagnostics, sendNotification } from './features/requests';
import { objectFateHover } from './features/objectFateHover';
import { registerSectionExplorer } from './features/sectionExplorer';
import { findMakeFiles } from './kbuild/findMakefiles';
import { invalidateKconfigIndexes } from './kbuild/kconfigIndex';
import { buildChanged, SERVER_NAME, SETTINGS_SECTION, VERSION, type Settings } from './lspExt';
import { RULES } from './rules/registry';
import type { Rule } from './rules/rule';
import { pathToUri, uriToPath, Workspace } from './workspace';

export interface ServerOptions {
  rules?: readonly Rule[];
  /** Folder of the rules' explanation pages (`<rule id>.md`); default: beside the server bundle. */
  docsDir?: string;
}

function readSettings(raw: unknown): Partial<Settings> {
  const out: Partial<Settings> = {};
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    if (typeof r.buildDirectory === 'string') out.buildDirectory = r.buildDirectory;
    if (typeof r.debounceMs === 'number' && r.debounceMs >= 0) out.debounceMs = r.debounceMs;
    if (typeof r.configInlayHints === 'boolean') out.configInlayHints = r.configInlayHints;
  }
  return out;
}

export function createServer(connection: Connection, options: ServerOptions = {}): Workspace {
  const rules = options.rules ?? RULES;
  const documents = new TextDocuments(TextDocument);
  const ws = new Workspace(connection, documents, rules, options.docsDir ?? path.join(__dirname, 'rules'));

  const envDebounce = Number(process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS);
  if (process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS !== undefined && Number.isFinite(envDebounce) && envDebounce >= 0)
    ws.settings.debounceMs = envDebounce;

  let watchDynamically = false;
  let inlayRefresh = false;
  // The client asks again for the hints of visible documents (a new configuration, the setting).
  const refreshInlayHints = () => {
    if (inlayRefresh) connection.languages.inlayHint.refresh().catch(() => undefined);
  };
  connection.onInitialize((params) => {
    Object.assign(ws.settings, readSettings(params.initializationOptions));
    ws.roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    if (ws.roots.length === 0 && params.rootUri) {
      const root = uriToPath(params.rootUri);
      if (root) ws.roots.push(root);
    }
    watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    inlayRefresh = !!params.capabilities.workspace?.inlayHint?.refreshSupport;
    // With a file watcher the build's changes are reported to us, so build lookups can be cached.
    if (watchDynamically) ws.cache = new AnalysisCache();
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        documentSymbolProvider: true,
        inlayHintProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.SourceFixAll, FIX_ALL_KIND] },
      },
      serverInfo: { name: SERVER_NAME, version: VERSION },
    };
  });

  const buildOutput = registerBuildOutput(ws);
  const diagnostics = registerDiagnostics(ws, [inactiveBranchDiagnostics], (file, analysis) =>
    buildOutput.update(file, analysis),
  );
  registerCodeActions(ws);
  registerFixRequests(ws);
  registerMakefileInfo(ws, [objectFateHover, kconfigHover]);
  registerConfigInlayHints(ws);
  registerKconfigNavigation(ws);
  const explorer = registerSectionExplorer(ws);

  documents.onDidClose((e) => {
    forgetDocument(e.document.uri);
    forgetConfiguredModel(e.document.uri);
  });
  // Once a pipeline is known, the explorer lists its stages by what the Makefile does.
  ws.onRuleFileFound = (analysis) => {
    explorer.invalidate();
    if (analysis.buildDir) sendNotification(connection, buildChanged, { buildUri: pathToUri(analysis.buildDir) });
  };

  const scan = { cancelled: false };
  connection.onInitialized(async () => {
    if (watchDynamically) {
      await connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [
          { globPattern: '**/*.o' },
          { globPattern: '**/.*.cmd' },
          { globPattern: '**/*.lds.S' },
          { globPattern: '**/{Makefile,Kbuild,Makefile.*,Kbuild.*}' },
          // The build's configuration and the tree's Kconfig files (values, faded branches, definitions).
          { globPattern: '**/{.config,auto.conf}' },
          { globPattern: '**/Kconfig*' },
        ],
      });
    }
    // Publish for files the rules apply to even when they are not open. A kernel tree has tens of
    // thousands of entries: the walk yields between directories, reports progress and can be cancelled.
    const progress = await connection.window.createWorkDoneProgress();
    progress.begin('Kbuild Diagnostics', 0, 'Looking for make files the rules apply to', true);
    const onCancel = progress.token.onCancellationRequested(() => (scan.cancelled = true));
    try {
      const found = await findMakeFiles(ws.roots, (text) => mayApply(rules, text), {
        token: scan,
        onProgress: (dirs, hits) => progress.report(`${dirs} folders read, ${hits} candidate${hits === 1 ? '' : 's'}`),
      });
      for (const f of found.files) diagnostics.schedule(f);
      if (found.incomplete.length > 0)
        connection.console.warn(
          `Workspace scan incomplete: ${found.incomplete.slice(0, 5).join('; ')}${found.incomplete.length > 5 ? ` and ${found.incomplete.length - 5} more` : ''}`,
        );
    } finally {
      onCancel.dispose();
      progress.done();
    }
  });

  let buildTimer: NodeJS.Timeout | undefined;
  const changedBuildDirs = new Set<string>();
  connection.onDidChangeWatchedFiles((params) => {
    for (const change of params.changes) {
      const file = uriToPath(change.uri);
      if (!file) continue;
      ws.reader.invalidate(file);
      ws.cache?.buildChanged();
      if (/(^|\/)Kconfig[^/]*$/.test(file)) invalidateKconfigIndexes(file);
      changedBuildDirs.add(path.dirname(file));
      if (/(^|\/)(Makefile|Kbuild)(\.[\w-]+)?$/.test(file) && !documents.get(change.uri)) {
        if (change.type === FileChangeType.Deleted) {
          ws.removed(file);
          buildOutput.update(file, undefined);
          publishDiagnostics(connection, { uri: change.uri, diagnostics: [] });
        } else diagnostics.schedule(file);
      }
    }
    // A build writes many files: settle first, then refresh once.
    clearTimeout(buildTimer);
    buildTimer = setTimeout(
      () => {
        diagnostics.refreshAll();
        refreshInlayHints();
        for (const dir of changedBuildDirs) sendNotification(connection, buildChanged, { buildUri: pathToUri(dir) });
        changedBuildDirs.clear();
        explorer.invalidate();
      },
      Math.max(ws.settings.debounceMs, 300),
    );
  });

  connection.onDidChangeConfiguration((params) => {
    const raw = (params.settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
    Object.assign(ws.settings, readSettings(raw));
    ws.reader.clear();
    ws.cache?.clear();
    explorer.invalidate();
    diagnostics.refreshAll();
    refreshInlayHints();
  });

  connection.onShutdown(() => {
    scan.cancelled = true;
    clearTimeout(buildTimer);
  });

  documents.listen(connection);
  return ws;
}
