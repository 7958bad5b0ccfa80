// Hover on a Kbuild list line (`obj-$(CONFIG_X) += foo.o`, `kvm-$(CONFIG_Y) += bar.o`, `lib-y`,
// `hyp-obj-$(CONFIG_Z)`): what this build does with each object (built in, module, not built), the
// option that decides it, and whether the build directory holds the object.
import * as path from 'node:path';
import type { Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { statSafe } from '../fs/safeRead';
import { configValueLabel } from '../kbuild/buildConfig';
import { listFate, type Fate } from '../kbuild/objectFate';
import type { AssignmentStmt } from '../make/ast';
import { inlineCode } from '../make/hover';
import { walkStatements } from '../make/parser';
import type { Workspace } from '../workspace';
import { configuredModel } from './configModel';

const FATE_WORDS: Record<Fate, string> = {
  'built-in': 'built in',
  module: 'module',
  built: 'built',
  'not-built': 'not built',
  unknown: 'cannot be decided here',
};
/** Objects described per hover (a list line rarely has more than a few dozen). */
const MAX_OBJECTS = 60;

async function holds(dir: string, word: string): Promise<string> {
  const st = await statSafe(path.join(dir, word.replace(/\/$/, '')));
  if (!st.ok) return st.reason === 'missing' ? 'not in the build directory' : `could not be checked (${st.message})`;
  return word.endsWith('/') ? 'folder in the build directory' : 'in the build directory';
}

export async function objectFateHover(
  ws: Workspace,
  doc: TextDocument,
  position: Position,
): Promise<string | undefined> {
  const { makefile } = ws.models.of(doc);
  const assignments: AssignmentStmt[] = [];
  walkStatements(makefile.statements, (s) => {
    if (s.kind === 'assignment' && s.span.start.line <= position.line && position.line <= s.span.end.line)
      assignments.push(s);
  });
  const stmt = assignments[assignments.length - 1];
  if (!stmt) return undefined;
  const model = await configuredModel(ws, doc);
  if (!model) return undefined;
  const fate = listFate(stmt, makefile, model.evaluation);
  if (!fate) return undefined;
  const { values, buildDir, source } = model.configuration;
  const decided =
    fate.options.length > 0
      ? fate.options.map((o) => `${inlineCode(o)} = ${inlineCode(configValueLabel(values, o))}`).join(', ')
      : 'no option (a fixed list)';
  const outDir = path.join(buildDir, model.objDir);
  const lines = [
    `**Objects with this configuration**: ${FATE_WORDS[fate.fate]} — list ${inlineCode(fate.list)}, decided by ${decided}; ${fate.why}.`,
    '',
  ];
  for (const o of fate.objects.slice(0, MAX_OBJECTS))
    lines.push(`- ${inlineCode(o)}: ${FATE_WORDS[fate.fate]}; ${await holds(outDir, o)}`);
  if (fate.objects.length > MAX_OBJECTS) lines.push(`- … and ${fate.objects.length - MAX_OBJECTS} more`);
  lines.push('', `Configuration: ${inlineCode(source)}; build directory: ${inlineCode(buildDir)}`);
  return lines.join('\n');
}
