// Kconfig one step away from a Makefile: go to definition on `CONFIG_X` (or on X in
// `obj-$(CONFIG_X)`) opens its `config X` / `menuconfig X` entries; hover shows the entry's prompt,
// type, this build's value and the first line of its help; find all references lists the make files
// of the tree that name CONFIG_X. The tree's Kconfig index (kbuild/kconfigIndex.ts) is built once,
// in the background; a partial index says so.
import { realpathSafe } from '../fs/safeRead';
import type { Location, Position } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { readRegularText } from '../fs/safeRead';
import { configValueLabel } from '../kbuild/buildConfig';
import { findMakeFiles } from '../kbuild/findMakefiles';
import { kconfigIndex, type KconfigEntryAt, type KconfigIndex } from '../kbuild/kconfigIndex';
import { MAX_MAKEFILE_BYTES } from '../lspExt';
import { inlineCode } from '../make/hover';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { configurationOf } from './configModel';

/** References listed at most (a common option is named in hundreds of Makefiles). */
const MAX_REFERENCES = 2000;

/** The CONFIG_ option under the cursor (the word CONFIG_X, with X under the cursor too). */
function optionAt(doc: TextDocument, position: Position): string | undefined {
  const line = doc.getText({
    start: { line: position.line, character: 0 },
    end: { line: position.line + 1, character: 0 },
  });
  for (const m of line.matchAll(/CONFIG_[A-Za-z0-9_]+/g)) {
    if (m.index <= position.character && position.character <= m.index + m[0].length) return m[0];
  }
  return undefined;
}

async function lookup(
  ws: Workspace,
  doc: TextDocument,
  position: Position,
): Promise<
  { option: string; entries: KconfigEntryAt[]; index: KconfigIndex; values?: Record<string, string> } | undefined
> {
  const option = optionAt(doc, position);
  const file = uriToPath(doc.uri);
  if (!option || !file) return undefined;
  const where = await configurationOf(ws, file);
  if (!where) return undefined;
  const index = await kconfigIndex(where.kernelRoot, where.configuration?.srcArch);
  return {
    option,
    entries: index.entries.get(option.slice('CONFIG_'.length)) ?? [],
    index,
    values: where.configuration?.values,
  };
}

function partialNote(index: KconfigIndex): string {
  if (index.partial.length === 0) return '';
  return `\n\n*Kconfig index partial* (${index.partial.length}${index.partial.length >= 50 ? '+' : ''} problems), e.g. ${inlineCode(index.partial[0])}`;
}

export async function kconfigHover(ws: Workspace, doc: TextDocument, position: Position): Promise<string | undefined> {
  const found = await lookup(ws, doc, position);
  if (!found) return undefined;
  const { option, entries, index, values } = found;
  const value = values ? configValueLabel(values, option) : 'no configuration found';
  if (entries.length === 0)
    return `${inlineCode(option)} = ${inlineCode(value)}; no \`config\` entry in the tree's Kconfig files${partialNote(index)}`;
  const e = entries.find((x) => x.prompt) ?? entries[0];
  const lines = [
    `**${inlineCode(`${e.kind} ${e.name}`)}**${e.type ? ` (${e.type})` : ''}${e.prompt ? `: ${inlineCode(e.prompt)}` : ''}`,
    '',
    `Value in this build: ${inlineCode(value)}`,
  ];
  if (e.help) lines.push('', inlineCode(e.help));
  if (entries.length > 1) lines.push('', `${entries.length} entries define it.`);
  return lines.join('\n') + partialNote(index);
}

export function registerKconfigNavigation(ws: Workspace): void {
  ws.connection.onDefinition(async (params): Promise<Location[]> => {
    const doc = ws.documents.get(params.textDocument.uri);
    const found = doc ? await lookup(ws, doc, params.position) : undefined;
    if (!found) return [];
    return found.entries.map((e) => ({
      uri: pathToUri(e.file),
      range: { start: { line: e.line, character: e.nameStart }, end: { line: e.line, character: e.nameEnd } },
    }));
  });
  ws.connection.onReferences(async (params): Promise<Location[]> => {
    const doc = ws.documents.get(params.textDocument.uri);
    const file = uriToPath(params.textDocument.uri);
    const option = doc ? optionAt(doc, params.position) : undefined;
    const where = file && option ? await configurationOf(ws, file) : undefined;
    if (!option || !where) return [];
    return referencesTo(option, where.kernelRoot);
  });
}

/** Where the tree's make files name `option` (a bounded walk; unreadable files are skipped). */
async function referencesTo(option: string, kernelRoot: string): Promise<Location[]> {
  const word = new RegExp(`\\b${option}\\b`, 'g');
  const found = await findMakeFiles([(await realpathSafe(kernelRoot)) ?? kernelRoot], (text) => text.includes(option));
  const out: Location[] = [];
  for (const f of found.files) {
    const r = await readRegularText(f, { maxBytes: MAX_MAKEFILE_BYTES, followSymlinks: false });
    if (!r.ok) continue;
    r.text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(word)) {
        if (out.length < MAX_REFERENCES)
          out.push({
            uri: pathToUri(f),
            range: { start: { line: i, character: m.index }, end: { line: i, character: m.index + option.length } },
          });
      }
    });
    if (out.length >= MAX_REFERENCES) break;
  }
  return out;
}
