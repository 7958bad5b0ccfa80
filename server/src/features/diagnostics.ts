// Publishes diagnostics: the rules' on the make files they apply to (open or found in the workspace),
// and syntax/evaluation problems on open make files. Re-analysis is debounced per file after edits
// and runs again for every such file when the build directory changes.
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ParseDiagnostic } from '../make/ast';
import { INCOMPLETE_CODE, MAX_ANALYZED_CHARS, SERVER_NAME as DIAGNOSTIC_SOURCE } from '../lspExt';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { publishDiagnostics } from './requests';
import { errorText } from '../common/errors';
import type { FileAnalysis } from '../analysis';
import { tooLargeToAnalyze } from './documentModel';

function toLsp(d: ParseDiagnostic, code: string): Diagnostic {
  return {
    range: d.span,
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code,
    message: d.message,
  };
}

/** One information diagnostic: the analysis could not read or evaluate everything it depends on. */
function incompleteDiagnostic(reasons: string[]): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: INCOMPLETE_CODE,
    message: `Analysis incomplete (no verdict is claimed for what was not read): ${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? ` and ${reasons.length - 3} more` : ''}`,
  };
}

export interface DiagnosticsFeature {
  /** Re-analyze one file after the debounce delay (0 = at once). */
  schedule(file: string): void;
  /** Re-analyze every file a rule applies to and every open document (after a build or settings change). */
  refreshAll(): void;
  /** Analyze and publish now; resolves when the diagnostics are sent. */
  run(file: string): Promise<void>;
}

/** More diagnostics for an open document (published with the rules' ones). */
export type DocumentDiagnostics = (ws: Workspace, doc: TextDocument) => Promise<Diagnostic[]>;

/** Called with each analysis the feature publishes (undefined: the file is gone or unreadable). */
export type AnalysisListener = (file: string, analysis: FileAnalysis | undefined) => void;

export function registerDiagnostics(
  ws: Workspace,
  extra: readonly DocumentDiagnostics[] = [],
  onAnalysis?: AnalysisListener,
): DiagnosticsFeature {
  return new DiagnosticsPublisher(ws, extra, onAnalysis).register();
}

/** A file too large to analyze in the editor: one information diagnostic says so. */
function tooLargeDiagnostic(chars: number): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: 'file-too-large',
    message: `Not analyzed: ${(chars / 1048576).toFixed(1)} MB is more than the ${MAX_ANALYZED_CHARS / 1048576} MB Kbuild Diagnostics reads in the editor (use the command line: kbuild-diagnostics check).`,
  };
}

/** The server keeps serving: an analysis failure is reported on the file, not thrown. */
function internalErrorDiagnostic(e: unknown): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: 'internal-error',
    message: `Kbuild Diagnostics could not analyze this file: ${errorText(e)}`,
  };
}

/** Debounced per file; a run's result is published only when no newer run or edit came meanwhile. */
class DiagnosticsPublisher implements DiagnosticsFeature {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly ws: Workspace,
    private readonly extra: readonly DocumentDiagnostics[],
    private readonly onAnalysis?: AnalysisListener,
  ) {}

  register(): this {
    const documents = this.ws.documents;
    documents.onDidOpen((e) => this.documentChanged(e.document));
    documents.onDidChangeContent((e) => this.documentChanged(e.document));
    documents.onDidClose((e) => this.documentClosed(e.document));
    return this;
  }

  async run(file: string): Promise<void> {
    const ws = this.ws;
    const gen = (this.generation.get(file) ?? 0) + 1;
    this.generation.set(file, gen);
    const uri = pathToUri(file);
    const doc = ws.documents.get(uri);
    const source = await ws.textOf(file);
    if ('failure' in source) {
      // Gone: nothing to say. Unreadable or not a regular file: say so; it is not "clean".
      const gone = source.missing;
      this.onAnalysis?.(file, undefined);
      publishDiagnostics(ws.connection, { uri, diagnostics: gone ? [] : [incompleteDiagnostic([source.failure])] });
      return;
    }
    const version = source.version ?? undefined;
    if (tooLargeToAnalyze(source.text)) {
      publishDiagnostics(ws.connection, { uri, version, diagnostics: [tooLargeDiagnostic(source.text.length)] });
      return;
    }
    const { diagnostics, analysis } = await this.collect(file, source.text, source.version, doc);
    // A newer run started meanwhile: its result wins.
    if (this.generation.get(file) !== gen) return;
    const current = ws.documents.get(uri);
    if (current && source.version !== null && current.version !== source.version) return;
    publishDiagnostics(ws.connection, { uri, version, diagnostics });
    this.onAnalysis?.(file, analysis);
  }

  /** The rules' diagnostics on a file's text, and for an open document its syntax and evaluation ones. */
  private async collect(
    file: string,
    text: string,
    version: number | null,
    doc: TextDocument | undefined,
  ): Promise<{ diagnostics: Diagnostic[]; analysis?: FileAnalysis }> {
    const diagnostics: Diagnostic[] = [];
    let analysis: FileAnalysis | undefined;
    try {
      // An open document is parsed once, for the rule, hover and outline alike.
      const model = doc && doc.version === version ? this.ws.models.of(doc) : undefined;
      analysis = await this.ws.analyze(file, text, model?.makefile, version);
      if (model) {
        diagnostics.push(...model.makefile.diagnostics.map((d) => toLsp(d, 'make-syntax')));
        diagnostics.push(...model.evaluation.diagnostics.map((d) => toLsp(d, 'make-evaluation')));
      }
      diagnostics.push(...analysis.diagnostics);
      if (analysis.incomplete.length > 0) diagnostics.push(incompleteDiagnostic(analysis.incomplete));
      if (doc && model) for (const more of this.extra) diagnostics.push(...(await more(this.ws, doc)));
    } catch (e) {
      diagnostics.push(internalErrorDiagnostic(e));
    }
    return { diagnostics, analysis };
  }

  schedule(file: string): void {
    clearTimeout(this.timers.get(file));
    const delay = this.ws.settings.debounceMs;
    const go = () => {
      this.timers.delete(file);
      this.run(file).catch((e: unknown) => {
        try {
          this.ws.connection.console.error(`diagnostics failed for ${file}: ${String(e)}`);
        } catch {
          // the connection is closed: nobody to tell
        }
      });
    };
    if (delay <= 0) go();
    else this.timers.set(file, setTimeout(go, delay));
  }

  refreshAll(): void {
    for (const f of this.ws.ruleFiles) this.schedule(f);
    // Open documents too: what the configuration fades can change with the build.
    for (const d of this.ws.documents.all()) {
      const f = uriToPath(d.uri);
      if (f && !this.ws.ruleFiles.has(f)) this.schedule(f);
    }
  }

  private documentChanged(doc: TextDocument): void {
    const file = uriToPath(doc.uri);
    if (file) this.schedule(file);
  }

  private documentClosed(doc: TextDocument): void {
    const file = uriToPath(doc.uri);
    if (!file) return;
    clearTimeout(this.timers.get(file));
    this.timers.delete(file);
    this.generation.delete(file);
    // Files a rule applies to keep their diagnostics from the file on disk; others are cleared.
    if (this.ws.ruleFiles.has(file)) this.schedule(file);
    else publishDiagnostics(this.ws.connection, { uri: doc.uri, diagnostics: [] });
    this.ws.closed(file);
  }
}
