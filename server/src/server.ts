// The language server hub: creates the connection and the workspace state, and wires each feature
// (one feature, one file under features/).
import { createConnection, DidChangeWatchedFilesNotification, ProposedFeatures, TextDocuments, TextDocumentSyncKind, CodeActionKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import * as path from 'node:path';
import { buildChanged } from './lspExt';
import { registerCodeActions, FIX_ALL_KIND } from './features/codeActions';
import { registerDiagnostics } from './features/diagnostics';
import { forgetDocument } from './features/documentModel';
import { registerFixRequests } from './features/fixRequests';
import { registerMakefileInfo } from './features/makefileInfo';
import { sendNotification } from './features/requests';
import { registerSectionExplorer } from './features/sectionExplorer';
import { findNvheMakefiles } from './findMakefiles';
import { AnalysisCache } from './nvheAnalysis';
import { pathToUri, uriToPath, Workspace, type Settings } from './workspace';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const ws = new Workspace(connection, documents);

function readSettings(raw: unknown): Partial<Settings> {
  const out: Partial<Settings> = {};
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    if (typeof r.buildDirectory === 'string') out.buildDirectory = r.buildDirectory;
    if (typeof r.debounceMs === 'number' && r.debounceMs >= 0) out.debounceMs = r.debounceMs;
  }
  return out;
}

const envDebounce = Number(process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS);
if (process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS !== undefined && Number.isFinite(envDebounce) && envDebounce >= 0) ws.settings.debounceMs = envDebounce;

let watchDynamically = false;
connection.onInitialize((params) => {
  Object.assign(ws.settings, readSettings(params.initializationOptions));
  ws.roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
  if (ws.roots.length === 0 && params.rootUri) {
    const root = uriToPath(params.rootUri);
    if (root) ws.roots.push(root);
  }
  watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
  // With a file watcher the build's changes are reported to us, so build lookups can be cached.
  if (watchDynamically) ws.cache = new AnalysisCache();
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      documentSymbolProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.SourceFixAll, FIX_ALL_KIND] },
    },
    serverInfo: { name: 'kbuild-diagnostics', version: '0.1.0' },
  };
});

const diagnostics = registerDiagnostics(ws);
registerCodeActions(ws);
registerFixRequests(ws);
registerMakefileInfo(ws);
const explorer = registerSectionExplorer(ws);

documents.onDidClose((e) => forgetDocument(e.document.uri));
// Once the pipeline is known, the explorer lists its stages by what the Makefile does.
ws.onNvheMakefileFound = (analysis) => {
  explorer.invalidate();
  if (analysis.buildDir) sendNotification(connection, buildChanged, { buildUri: pathToUri(analysis.buildDir) });
};

const scan = { cancelled: false };
connection.onInitialized(async () => {
  if (watchDynamically) {
    await connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.o' }, { globPattern: '**/.*.cmd' }, { globPattern: '**/*.lds.S' }, { globPattern: '**/{Makefile,Kbuild}' }],
    });
  }
  // Publish for nvhe Makefiles in the workspace even when they are not open. A kernel tree has tens
  // of thousands of entries: the walk yields between directories, reports progress and can be cancelled.
  const progress = await connection.window.createWorkDoneProgress();
  progress.begin('Kbuild Diagnostics', 0, 'Looking for nvhe Makefiles', true);
  const onCancel = progress.token.onCancellationRequested(() => (scan.cancelled = true));
  try {
    const found = await findNvheMakefiles(ws.roots, scan, undefined, (dirs, hits) => progress.report(`${dirs} folders read, ${hits} nvhe Makefile${hits === 1 ? '' : 's'}`));
    for (const f of found) diagnostics.schedule(f);
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
    changedBuildDirs.add(path.dirname(file));
    if (/(^|\/)(Makefile|Kbuild)$/.test(file) && !documents.get(change.uri)) diagnostics.schedule(file);
  }
  // A build writes many files: settle first, then refresh once.
  clearTimeout(buildTimer);
  buildTimer = setTimeout(() => {
    diagnostics.refreshAll();
    for (const dir of changedBuildDirs) sendNotification(connection, buildChanged, { buildUri: pathToUri(dir) });
    changedBuildDirs.clear();
    explorer.invalidate();
  }, Math.max(ws.settings.debounceMs, 300));
});

connection.onDidChangeConfiguration((params) => {
  const raw = (params.settings as Record<string, unknown> | undefined)?.kbuildDiagnostics;
  Object.assign(ws.settings, readSettings(raw));
  ws.reader.clear();
  ws.cache?.clear();
  explorer.invalidate();
  diagnostics.refreshAll();
});

connection.onShutdown(() => {
  scan.cancelled = true;
});

documents.listen(connection);
connection.listen();
