// One view of a failure: the rules' diagnoses published on the files the build's own error lines
// name. A problem matcher ($kbuild-objects) puts `ld.lld: error: <object>:(<section>) ...` or
// gen-hyprel's `error: <object>: ...` on the object file; a finding that explains such a line
// (RuleFinding.buildOutput) is published on the same object, at the same place, with the Makefile
// line that lets it through and the fixes offered there as its first related location. The entries
// follow the analyses: a Makefile analyzed again replaces what it published, a Makefile gone clears it.
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { FileAnalysis } from '../analysis';
import { SERVER_NAME as DIAGNOSTIC_SOURCE } from '../lspExt';
import { pathToUri, type Workspace } from '../workspace';
import { publishDiagnostics } from './requests';

const ZERO = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
/** Related locations carried over from the rule's diagnostic (after the Makefile line). */
const MAX_RELATED = 6;

export interface BuildOutputFeature {
  /** The Makefile was analyzed (or is gone: undefined): publish what its findings explain now. */
  update(makefile: string, analysis: FileAnalysis | undefined): void;
}

/** The diagnostics one Makefile's findings put on the files their build output lines name. */
function explainedOutput(ws: Workspace, makefile: string, analysis: FileAnalysis): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const [ruleId, finding] of analysis.findings) {
    const fixes = ws.rule(ruleId)?.fixes.map((f) => f.title) ?? [];
    for (const line of finding.buildOutput ?? []) {
      const d = finding.diagnostics[line.diagnostic];
      if (!d) continue;
      const fixHere: DiagnosticRelatedInformation = {
        location: { uri: pathToUri(makefile), range: finding.anchor },
        message:
          fixes.length > 0
            ? `The Makefile line that lets it through; quick fixes there: ${fixes.join('; ')}.`
            : 'The Makefile line that lets it through.',
      };
      const uri = pathToUri(line.file);
      const diagnostic: Diagnostic = {
        range: ZERO,
        severity: d.severity ?? (line.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning),
        source: DIAGNOSTIC_SOURCE,
        code: d.code,
        codeDescription: d.codeDescription,
        message: `Why the build printed "${line.text}": ${d.message}`,
        relatedInformation: [
          fixHere,
          ...(d.relatedInformation ?? []).filter((r) => r.location.uri !== uri).slice(0, MAX_RELATED),
        ],
      };
      out.set(uri, [...(out.get(uri) ?? []), diagnostic]);
    }
  }
  return out;
}

export function registerBuildOutput(ws: Workspace): BuildOutputFeature {
  /** Makefile -> (file URI -> diagnostics it put there). */
  const byMakefile = new Map<string, Map<string, Diagnostic[]>>();

  function publish(uri: string): void {
    const diagnostics: Diagnostic[] = [];
    for (const m of byMakefile.values()) diagnostics.push(...(m.get(uri) ?? []));
    publishDiagnostics(ws.connection, { uri, diagnostics });
  }

  return {
    update(makefile, analysis) {
      const before = byMakefile.get(makefile);
      const now = analysis ? explainedOutput(ws, makefile, analysis) : new Map<string, Diagnostic[]>();
      if (now.size > 0) byMakefile.set(makefile, now);
      else byMakefile.delete(makefile);
      const touched = new Set([...(before?.keys() ?? []), ...now.keys()]);
      for (const uri of touched) publish(uri);
    },
  };
}
