// Publishes diagnostics: the rules' on the make files they apply to (open or found in the workspace),
// and syntax/evaluation problems on open make files. Re-analysis is debounced per file after edits
// and runs again for every such file when the build directory changes.
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ParseDiagnostic } from '../make/ast';
import { INCOMPLETE_CODE, MAX_ANALYZED_CHARS, SERVER_NAME as DIAGNOSTIC_SOURCE } from '../lspExt';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { documentModel } from './documentModel';
import { publishDiagnostics } from './requests';
import { errorText } from '../common/errors';
import type { FileAnalysis } from '../analysis';

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
  const timers = new Map<string, NodeJS.Timeout>();
  const generation = new Map<string, number>();

  async function run(file: string): Promise<void> {
    const gen = (generation.get(file) ?? 0) + 1;
    generation.set(file, gen);
    const uri = pathToUri(file);
    const doc = ws.documents.get(uri);
    const source = await ws.textOf(file);
    if ('failure' in source) {
      // Gone: nothing to say. Unreadable or not a regular file: say so; it is not "clean".
      const gone = source.missing;
      onAnalysis?.(file, undefined);
      publishDiagnostics(ws.connection, { uri, diagnostics: gone ? [] : [incompleteDiagnostic([source.failure])] });
      return;
    }
    const diagnostics: Diagnostic[] = [];
    let analysis: FileAnalysis | undefined;
    if (source.text.length > MAX_ANALYZED_CHARS) {
      publishDiagnostics(ws.connection, {
        uri,
        version: source.version ?? undefined,
        diagnostics: [
          {
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            severity: DiagnosticSeverity.Information,
            source: DIAGNOSTIC_SOURCE,
            code: 'file-too-large',
            message: `Not analyzed: ${(source.text.length / 1048576).toFixed(1)} MB is more than the ${MAX_ANALYZED_CHARS / 1048576} MB Kbuild Diagnostics reads in the editor (use the command line: kbuild-diagnostics check).`,
          },
        ],
      });
      return;
    }
    try {
      // An open document is parsed once, for the rule, hover and outline alike.
      const model = doc && doc.version === source.version ? documentModel(doc) : undefined;
      analysis = await ws.analyze(file, source.text, model?.makefile, source.version);
      if (model) {
        diagnostics.push(...model.makefile.diagnostics.map((d) => toLsp(d, 'make-syntax')));
        diagnostics.push(...model.evaluation.diagnostics.map((d) => toLsp(d, 'make-evaluation')));
      }
      diagnostics.push(...analysis.diagnostics);
      if (analysis.incomplete.length > 0) diagnostics.push(incompleteDiagnostic(analysis.incomplete));
      if (doc && model) for (const more of extra) diagnostics.push(...(await more(ws, doc)));
    } catch (e) {
      // The server keeps serving: an analysis failure is reported on the file, not thrown.
      diagnostics.push({
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: DiagnosticSeverity.Information,
        source: DIAGNOSTIC_SOURCE,
        code: 'internal-error',
        message: `Kbuild Diagnostics could not analyze this file: ${errorText(e)}`,
      });
    }
    // A newer run started meanwhile: its result wins.
    if (generation.get(file) !== gen) return;
    const current = ws.documents.get(uri);
    if (current && source.version !== null && current.version !== source.version) return;
    publishDiagnostics(ws.connection, { uri, version: source.version ?? undefined, diagnostics });
    onAnalysis?.(file, analysis);
  }

  function schedule(file: string): void {
    clearTimeout(timers.get(file));
    const delay = ws.settings.debounceMs;
    const go = () => {
      timers.delete(file);
      run(file).catch((e: unknown) => {
        try {
          ws.connection.console.error(`diagnostics failed for ${file}: ${String(e)}`);
        } catch {
          // the connection is closed: nobody to tell
        }
      });
    };
    if (delay <= 0) go();
    else timers.set(file, setTimeout(go, delay));
  }

  function onDocument(doc: TextDocument): void {
    const file = uriToPath(doc.uri);
    if (file) schedule(file);
  }
  ws.documents.onDidOpen((e) => onDocument(e.document));
  ws.documents.onDidChangeContent((e) => onDocument(e.document));
  ws.documents.onDidClose((e) => {
    const file = uriToPath(e.document.uri);
    if (!file) return;
    clearTimeout(timers.get(file));
    timers.delete(file);
    generation.delete(file);
    // Files a rule applies to keep their diagnostics from the file on disk; others are cleared.
    if (ws.ruleFiles.has(file)) schedule(file);
    else publishDiagnostics(ws.connection, { uri: e.document.uri, diagnostics: [] });
    ws.closed(file);
  });

  return {
    schedule,
    run,
    refreshAll: () => {
      for (const f of ws.ruleFiles) schedule(f);
      // Open documents too: what the configuration fades can change with the build.
      for (const d of ws.documents.all()) {
        const f = uriToPath(d.uri);
        if (f && !ws.ruleFiles.has(f)) schedule(f);
      }
    },
  };
}
