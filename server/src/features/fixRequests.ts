// Custom requests around fixes: the edit of a form (for the panel), the patch for `git am`, and
// the Makefile line that lets the metadata through (for "reveal").
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixEdit, fixLocation, makePatch } from '../lspExt';
import { makePatch as writePatch } from '../patch';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { fixForFile, relativeToKernel, toVersionedEdit } from './fixes';
import { onRequest } from './requests';

/**
 * The Makefile a request is about: the one named; else, among nvhe Makefiles whose build directory
 * holds `inBuild` (an object or build directory the panel points at) when given, one that leaks
 * (or any).
 */
function pickMakefile(ws: Workspace, uri?: string, inBuild?: string): string | undefined {
  if (uri) return uriToPath(uri);
  const within = (f: string) => {
    const dir = ws.analyses.get(f)?.buildDir;
    return !inBuild || (dir !== undefined && (inBuild === dir || inBuild.startsWith(dir + path.sep)));
  };
  const candidates = [...ws.nvheMakefiles].filter(within);
  return candidates.find((f) => ws.analyses.get(f)?.verdict?.leaks) ?? candidates[0];
}

/** `Name <email>` from ~/.gitconfig, read as text (no program is run). */
async function gitAuthor(): Promise<string> {
  try {
    const text = await fs.readFile(path.join(os.homedir(), '.gitconfig'), 'utf8');
    const user = /\[user\]([^[]*)/.exec(text)?.[1] ?? '';
    const name = /^\s*name\s*=\s*(.+)$/m.exec(user)?.[1]?.trim();
    const email = /^\s*email\s*=\s*(.+)$/m.exec(user)?.[1]?.trim();
    if (name && email) return `${name} <${email}>`;
  } catch {
    // no git configuration: fall through
  }
  return 'Kbuild Diagnostics <kbuild-diagnostics@localhost>';
}

export function registerFixRequests(ws: Workspace): void {
  onRequest(ws.connection, fixEdit, async (p) => {
    const file = pickMakefile(ws, p.makefileUri);
    if (!file) return { edit: null, reason: 'No nvhe Makefile (one that runs gen-hyprel) was found in the workspace.' };
    const f = await fixForFile(ws, file, p.form);
    if (!f) return { edit: null, reason: `No fix needed: ${path.basename(file)} does not let profile metadata reach gen-hyprel (or form ${p.form} cannot be applied to it).` };
    return { edit: toVersionedEdit(f) };
  });

  onRequest(ws.connection, makePatch, async (p) => {
    const file = uriToPath(p.makefileUri);
    if (!file) return { patch: null, reason: 'Not a file URI.' };
    const f = await fixForFile(ws, file, p.form);
    if (!f) return { patch: null, reason: 'No fix needed for this Makefile.' };
    const objectPath = ws.analyses.get(file)?.verdict?.pipeline.genHyprelInput;
    const out = writePatch({ form: p.form, relativePath: relativeToKernel(f), oldText: f.oldText, newText: f.fix.newText, author: await gitAuthor(), date: new Date(), objectPath });
    return { patch: out.patch, fileName: out.fileName };
  });

  onRequest(ws.connection, fixLocation, async (p) => {
    const target = p.objectUri ?? p.buildUri;
    const file = pickMakefile(ws, undefined, target ? uriToPath(target) : undefined);
    const analysis = file ? ws.analyses.get(file) : undefined;
    if (!file || !analysis?.verdict) return { location: null };
    return { location: { uri: pathToUri(file), range: analysis.verdict.anchor } };
  });
}
