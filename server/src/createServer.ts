// The language server hub: makes each feature (one feature, one file under features/) on a
// connection, for the rules it is given, and binds the server's own LSP events to named handlers. Editor-neutral and transport-neutral: server.ts runs it over
// stdio/IPC; tests can run it in-process over a stream pair.
import * as path from 'node:path';
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type DidChangeConfigurationParams,
  type DidChangeWatchedFilesParams,
  type FileEvent,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { AnalysisCache, mayApply, type FileAnalysis } from './analysis';
import { registerBuildOutput, type BuildOutputFeature } from './features/buildOutput';
import { registerBuildTasks } from './features/buildTasks';
import { registerCodeActions, FIX_ALL_KIND } from './features/codeActions';
import { registerConfigInlayHints } from './features/configInlayHints';
import { registerDiagnostics, type DiagnosticsFeature } from './features/diagnostics';
import { inactiveBranchDiagnostics } from './features/inactiveBranches';
import { kconfigHover, registerKconfigNavigation } from './features/kconfigNavigation';
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
  return new KbuildServer(connection, options).register();
}

/** Files the client watches for us (build outputs, make files, configuration, Kconfig). */
const WATCHED = [
  { globPattern: '**/*.o' },
  { globPattern: '**/.*.cmd' },
  { globPattern: '**/*.lds.S' },
  { globPattern: '**/{Makefile,Kbuild,Makefile.*,Kbuild.*}' },
  // The build's configuration and the tree's Kconfig files (values, faded branches, definitions).
  { globPattern: '**/{.config,auto.conf}' },
  { globPattern: '**/Kconfig*' },
];

/**
 * One server on one connection: the features are made in the constructor, and register() binds each
 * remaining LSP event to a named handler below (as bash-language-server's server.ts does).
 */
class KbuildServer {
  readonly ws: Workspace;
  private readonly documents = new TextDocuments(TextDocument);
  private readonly rules: readonly Rule[];
  private readonly diagnostics: DiagnosticsFeature;
  private readonly buildOutput: BuildOutputFeature;
  private readonly explorer: { invalidate(): void };
  /** The client watches files for us (DidChangeWatchedFiles with dynamic registration). */
  private watchDynamically = false;
  /** The client can be asked to fetch inlay hints again. */
  private inlayRefresh = false;
  private readonly scan = { cancelled: false };
  private buildTimer: NodeJS.Timeout | undefined;
  private readonly changedBuildDirs = new Set<string>();

  constructor(
    private readonly connection: Connection,
    options: ServerOptions,
  ) {
    this.rules = options.rules ?? RULES;
    const ws = new Workspace(connection, this.documents, this.rules, options.docsDir ?? path.join(__dirname, 'rules'));
    this.ws = ws;
    const envDebounce = Number(process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS);
    if (process.env.KBUILD_DIAGNOSTICS_DEBOUNCE_MS !== undefined && Number.isFinite(envDebounce) && envDebounce >= 0)
      ws.settings.debounceMs = envDebounce;
    const buildOutput = registerBuildOutput(ws);
    this.buildOutput = buildOutput;
    this.diagnostics = registerDiagnostics(ws, [inactiveBranchDiagnostics], (file, analysis) =>
      buildOutput.update(file, analysis),
    );
    registerCodeActions(ws);
    registerBuildTasks(ws);
    registerFixRequests(ws);
    registerMakefileInfo(ws, [objectFateHover, kconfigHover]);
    registerConfigInlayHints(ws);
    registerKconfigNavigation(ws);
    this.explorer = registerSectionExplorer(ws);
  }

  register(): Workspace {
    const { connection, documents } = this;
    connection.onInitialize((params) => this.initialize(params));
    connection.onInitialized(() => this.initialized());
    connection.onDidChangeWatchedFiles((params) => this.watchedFilesChanged(params));
    connection.onDidChangeConfiguration((params) => this.configurationChanged(params));
    connection.onShutdown(() => this.shutdown());
    documents.onDidClose((e) => this.documentClosed(e.document));
    this.ws.onRuleFileFound = (analysis) => this.ruleFileFound(analysis);
    documents.listen(connection);
    return this.ws;
  }

  private initialize(params: InitializeParams): InitializeResult {
    const ws = this.ws;
    Object.assign(ws.settings, readSettings(params.initializationOptions));
    ws.roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    if (ws.roots.length === 0 && params.rootUri) {
      const root = uriToPath(params.rootUri);
      if (root) ws.roots.push(root);
    }
    this.watchDynamically = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    this.inlayRefresh = !!params.capabilities.workspace?.inlayHint?.refreshSupport;
    // With a file watcher the build's changes are reported to us, so build lookups can be cached.
    if (this.watchDynamically) ws.cache = new AnalysisCache();
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
  }

  private async initialized(): Promise<void> {
    if (this.watchDynamically)
      await this.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: WATCHED });
    await this.scanWorkspace();
  }

  /**
   * Publishes for files the rules apply to even when they are not open. A kernel tree has tens of
   * thousands of entries: the walk yields between directories, reports progress and can be cancelled.
   */
  private async scanWorkspace(): Promise<void> {
    const progress = await this.connection.window.createWorkDoneProgress();
    progress.begin('Kbuild Diagnostics', 0, 'Looking for make files the rules apply to', true);
    const onCancel = progress.token.onCancellationRequested(() => (this.scan.cancelled = true));
    try {
      const found = await findMakeFiles(this.ws.roots, (text) => mayApply(this.rules, text), {
        token: this.scan,
        onProgress: (dirs, hits) => progress.report(`${dirs} folders read, ${hits} candidate${hits === 1 ? '' : 's'}`),
      });
      for (const f of found.files) this.diagnostics.schedule(f);
      if (found.incomplete.length > 0)
        this.connection.console.warn(
          `Workspace scan incomplete: ${found.incomplete.slice(0, 5).join('; ')}${found.incomplete.length > 5 ? ` and ${found.incomplete.length - 5} more` : ''}`,
        );
    } finally {
      onCancel.dispose();
      progress.done();
    }
  }

  private watchedFilesChanged(params: DidChangeWatchedFilesParams): void {
    for (const change of params.changes) this.watchedFileChanged(change);
    // A build writes many files: settle first, then refresh once.
    clearTimeout(this.buildTimer);
    this.buildTimer = setTimeout(() => this.buildSettled(), Math.max(this.ws.settings.debounceMs, 300));
  }

  private watchedFileChanged(change: FileEvent): void {
    const ws = this.ws;
    const file = uriToPath(change.uri);
    if (!file) return;
    ws.reader.invalidate(file);
    ws.cache?.buildChanged();
    if (/(^|\/)Kconfig[^/]*$/.test(file)) invalidateKconfigIndexes(file);
    this.changedBuildDirs.add(path.dirname(file));
    if (/(^|\/)(Makefile|Kbuild)(\.[\w-]+)?$/.test(file) && !this.documents.get(change.uri)) {
      if (change.type === FileChangeType.Deleted) {
        ws.removed(file);
        this.buildOutput.update(file, undefined);
        publishDiagnostics(this.connection, { uri: change.uri, diagnostics: [] });
      } else this.diagnostics.schedule(file);
    }
  }

  /** The build's files stopped changing: everything that reads them is refreshed once. */
  private buildSettled(): void {
    this.diagnostics.refreshAll();
    this.refreshInlayHints();
    for (const dir of this.changedBuildDirs)
      sendNotification(this.connection, buildChanged, { buildUri: pathToUri(dir) });
    this.changedBuildDirs.clear();
    this.explorer.invalidate();
  }

  private configurationChanged(params: DidChangeConfigurationParams): void {
    const ws = this.ws;
    const raw = (params.settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION];
    Object.assign(ws.settings, readSettings(raw));
    ws.reader.clear();
    ws.cache?.clear();
    this.explorer.invalidate();
    this.diagnostics.refreshAll();
    this.refreshInlayHints();
  }

  private shutdown(): void {
    this.scan.cancelled = true;
    clearTimeout(this.buildTimer);
  }

  private documentClosed(doc: TextDocument): void {
    this.ws.forgetDocument(doc.uri);
  }

  /** Once a pipeline is known, the explorer lists its stages by what the Makefile does. */
  private ruleFileFound(analysis: FileAnalysis): void {
    this.explorer.invalidate();
    if (analysis.buildDir) sendNotification(this.connection, buildChanged, { buildUri: pathToUri(analysis.buildDir) });
  }

  /** The client asks again for the hints of visible documents (a new configuration, the setting). */
  private refreshInlayHints(): void {
    if (this.inlayRefresh) this.connection.languages.inlayHint.refresh().catch(() => undefined);
  }
}
