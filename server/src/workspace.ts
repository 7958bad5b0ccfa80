// The server's state: settings, open documents and their parsed and configured models, the rules, the
// make files they apply to in the workspace, their latest analyses, and the build reader cache. Each
// server has its own (nothing of it is kept at module level). Features read it; only the hub and this
// file write it, but for the two model caches, which fill themselves on a read. Knows no rule by name.
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { readRegularText } from './fs/safeRead';
import { BuildReader } from './kbuild/buildModel';
import { DEFAULT_SETTINGS, MAX_MAKEFILE_BYTES, type Settings } from './lspExt';
import type { Makefile } from './make/ast';
import { AnalysisCache, analyzeFile, makefileContext, type FileAnalysis } from './analysis';
import { ConfiguredModels } from './features/configModel';
import { DocumentModels } from './features/documentModel';
import type { MakefileContext, Rule } from './rules/rule';

export function uriToPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export function pathToUri(p: string): string {
  return pathToFileURL(p).toString();
}

export class Workspace {
  readonly reader = new BuildReader();
  settings: Settings = { ...DEFAULT_SETTINGS };
  roots: string[] = [];
  /** Make files some rule applies to, by path (their diagnostics stay published while closed). */
  readonly ruleFiles = new Set<string>();
  readonly analyses = new Map<string, FileAnalysis>();
  /** Open documents parsed and evaluated, per version. */
  readonly models = new DocumentModels();
  /** Open documents evaluated with their build's configuration, per version and configuration. */
  readonly configuredModels = new ConfiguredModels();
  /** Set when the client watches build files for us: then build lookups are cached between edits. */
  cache: AnalysisCache | undefined;
  /** Called when a rule first applies to a file (the explorer can then list its pipeline by meaning). */
  onRuleFileFound: ((analysis: FileAnalysis) => void) | undefined;

  constructor(
    readonly connection: Connection,
    readonly documents: TextDocuments<TextDocument>,
    readonly rules: readonly Rule[],
    /** Folder of the rules' explanation pages. */
    readonly docsDir: string,
  ) {}

  /** The open document's text and version, else the file on disk (a regular file, bounded in size). */
  async textOf(
    file: string,
  ): Promise<{ text: string; version: number | null } | { failure: string; missing: boolean }> {
    const doc = this.documents.get(pathToUri(file));
    if (doc) return { text: doc.getText(), version: doc.version };
    const r = await readRegularText(file, { maxBytes: MAX_MAKEFILE_BYTES });
    return r.ok ? { text: r.text, version: null } : { failure: r.message, missing: r.reason === 'missing' };
  }

  /** The rules' context for a file's text (what fixes and patches are computed from). */
  async contextOf(file: string, text: string): Promise<MakefileContext> {
    const known = this.analyses.get(file);
    const kernelRoot = known?.kernelRoot ?? (await (this.cache ?? new AnalysisCache()).kernelRoot(file));
    return makefileContext(file, text, kernelRoot, undefined, known?.buildDir);
  }

  /** A document closed: its models go (its analysis stays while a rule applies to the file). */
  forgetDocument(uri: string): void {
    this.models.forget(uri);
    this.configuredModels.forget(uri);
  }

  rule(id: string): Rule | undefined {
    return this.rules.find((r) => r.id === id);
  }

  /**
   * Runs the rules; `makefile` is the parse of `text` when the caller already has it, `version` the
   * document version the text is from (null: the file on disk).
   */
  async analyze(file: string, text: string, makefile?: Makefile, version: number | null = null): Promise<FileAnalysis> {
    const analysis = await analyzeFile(file, text, {
      rules: this.rules,
      docsDir: this.docsDir,
      reader: this.reader,
      buildDirectory: this.settings.buildDirectory || undefined,
      searchRoots: this.roots,
      cache: this.cache,
      makefile,
    });
    analysis.version = version;
    const known = this.ruleFiles.has(file);
    const applies = analysis.findings.size > 0;
    if (applies) this.ruleFiles.add(file);
    else this.ruleFiles.delete(file);
    if (applies || this.documents.get(pathToUri(file))) this.analyses.set(file, analysis);
    else this.analyses.delete(file);
    if (applies && !known) this.onRuleFileFound?.(analysis);
    return analysis;
  }

  /**
   * The file was closed: keep only what the workspace diagnostics and the explorer need (a file no
   * rule applies to is forgotten; hover notes, which hold parts of the syntax tree, are dropped).
   */
  closed(file: string): void {
    const a = this.analyses.get(file);
    if (!a) return;
    if (!this.ruleFiles.has(file)) {
      this.analyses.delete(file);
      return;
    }
    for (const [id, f] of a.findings) a.findings.set(id, { ...f, hoverNote: undefined });
  }

  /** The file is gone from disk. */
  removed(file: string): void {
    this.analyses.delete(file);
    this.ruleFiles.delete(file);
  }
}
