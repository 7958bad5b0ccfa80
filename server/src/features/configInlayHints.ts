// Inlay hints: after each `$(CONFIG_X)` and each `CONFIG_X` tested by ifdef/ifndef, the value the
// build's configuration gives it (y, m, a string, a number, or `unset`). Nothing without a
// configuration: no guess. The configInlayHints setting turns them off.
import type { InlayHint } from 'vscode-languageserver';
import { configValueLabel } from '../kbuild/buildConfig';
import { configReferences } from '../kbuild/configRefs';
import type { Workspace } from '../workspace';
import { configuredModel } from './configModel';

/** At most this many hints per request (a generated file could name an option on every line). */
const MAX_HINTS = 5000;

export function registerConfigInlayHints(ws: Workspace): void {
  ws.connection.languages.inlayHint.on(async (params): Promise<InlayHint[]> => {
    if (!ws.settings.configInlayHints) return [];
    const doc = ws.documents.get(params.textDocument.uri);
    if (!doc) return [];
    const model = await configuredModel(ws, doc);
    if (!model) return [];
    const { start, end } = params.range;
    const hints: InlayHint[] = [];
    for (const ref of configReferences(ws.models.of(doc).makefile)) {
      if (ref.span.end.line < start.line || ref.span.start.line > end.line) continue;
      hints.push({
        position: ref.span.end,
        label: configValueLabel(model.configuration.values, ref.name),
        paddingLeft: true,
        tooltip: `${ref.name} in ${model.configuration.source}`,
      });
      if (hints.length >= MAX_HINTS) break;
    }
    return hints;
  });
}
