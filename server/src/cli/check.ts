// `kbuild-diagnostics check [PATH...] [--build-dir DIR] [--format text|json]`: the rules over files
// and trees, printed like a compiler (`file:line:col: severity: message [code]`) or as JSON.
// Exit 0 when nothing is found and everything was read and evaluated, 1 when something is found,
// 2 on a usage error, 3 when nothing is found but something could not be read or evaluated in full
// (an unreadable file or folder, a device or FIFO, a path too long, an evaluation cut by its bounds).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { AnalysisCache, analyzeFile, mayApply } from '../analysis';
import { readRegularTextSync, statSafe, statSafeSync } from '../fs/safeRead';
import { MAX_MAKEFILE_BYTES } from '../lspExt';
import { BuildReader } from '../kbuild/buildModel';
import { findMakeFiles } from '../kbuild/findMakefiles';
import { RULES } from '../rules/registry';
import type { Rule } from '../rules/rule';
import { parseCommandArgs, usageError } from './args';
import type { CliIo } from './io';

const SEVERITY = ['', 'error', 'warning', 'note', 'note'];

const checkUsage = 'usage: kbuild-diagnostics check [--build-dir DIR] [--format text|json] [PATH...]';
const checkOptions = {
  'build-dir': { type: 'string', short: 'O' },
  format: { type: 'string' },
} as const;

/** The make files named by `paths` (directories walked for files a rule may apply to); 2 when one is missing. */
async function collectFiles(
  paths: string[],
  rules: readonly Rule[],
  io: CliIo,
): Promise<{ files: string[]; walkedTexts: Map<string, string>; incomplete: string[] } | number> {
  const files: string[] = [];
  // The texts the walk already read (regular files, bounded): not read a second time.
  const walkedTexts = new Map<string, string>();
  const incomplete: string[] = [];
  for (const p of paths) {
    const st = statSafeSync(p);
    if (!st.ok && st.reason === 'missing') {
      io.err(`kbuild-diagnostics check: ${p}: no such file or directory\n`);
      return 2;
    }
    if (st.ok && st.stat.isDirectory()) {
      const found = await findMakeFiles([path.resolve(p)], (text) => mayApply(rules, text));
      files.push(...found.files);
      for (const [f, t] of found.texts) walkedTexts.set(f, t);
      incomplete.push(...found.incomplete);
    } else files.push(path.resolve(p));
  }
  return { files, walkedTexts, incomplete };
}

/** One file's diagnostics as compiler-style text lines (`FILE:LINE:COL: severity: message [code]`, notes after). */
function printDiagnostics(io: CliIo, file: string, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    const rel = path.relative(process.cwd(), file) || file;
    io.out(
      `${rel}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${SEVERITY[d.severity ?? 2]}: ${d.message} [${String(d.code)}]\n`,
    );
    for (const r of d.relatedInformation ?? []) {
      const where = r.location.uri.startsWith('file:')
        ? path.relative(process.cwd(), fileURLToPath(r.location.uri))
        : r.location.uri;
      io.out(
        `${where}:${r.location.range.start.line + 1}:${r.location.range.start.character + 1}: note: ${r.message}\n`,
      );
    }
  }
}

export async function checkCommand(
  args: string[],
  io: CliIo,
  ruleList?: readonly Rule[],
  docsDirGiven?: string,
): Promise<number> {
  const rules = ruleList ?? RULES;
  const docsDir = docsDirGiven ?? path.join(__dirname, 'rules');
  const parsed = parseCommandArgs('check', checkUsage, checkOptions, args, io);
  if (typeof parsed === 'number') return parsed;
  const paths = parsed.positionals;
  const buildDir = parsed.values['build-dir'];
  const format = parsed.values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    return usageError('check', checkUsage, `--format takes text or json, not '${format}'`, io);
  if (buildDir !== undefined) {
    const st = await statSafe(buildDir);
    if (!st.ok || !st.stat.isDirectory()) {
      io.err(`kbuild-diagnostics check: --build-dir ${buildDir}: ${st.ok ? 'not a directory' : st.message}\n`);
      return 2;
    }
  }
  if (paths.length === 0) paths.push('.');

  const collected = await collectFiles(paths, rules, io);
  if (typeof collected === 'number') return collected;
  const { files, walkedTexts, incomplete } = collected;

  const reader = new BuildReader();
  // One run: the tree, its build directories and the evidence do not change under it.
  const cache = new AnalysisCache();
  const results = [];
  let found = 0;
  for (const file of files) {
    // A batch over thousands of files: synchronous reads (regular files only, opened non-blocking)
    // cost a fraction of a thread-pool round trip each.
    let text = walkedTexts.get(file);
    if (text === undefined) {
      const read = readRegularTextSync(file, { maxBytes: MAX_MAKEFILE_BYTES });
      if (!read.ok) {
        incomplete.push(read.message);
        continue;
      }
      text = read.text;
    }
    const a = await analyzeFile(file, text, {
      rules,
      docsDir,
      reader,
      cache,
      buildDirectory: buildDir ? path.resolve(buildDir) : undefined,
      searchRoots: [process.cwd()],
    });
    incomplete.push(...a.incomplete);
    if (a.findings.size === 0) continue;
    // Errors and warnings count; hints and information are printed as notes but do not fail the check.
    found += a.diagnostics.filter((d) => (d.severity ?? 2) <= 2).length > 0 ? 1 : 0;
    results.push({
      file,
      rules: [...a.findings.keys()],
      buildDirectory: a.buildDir ?? null,
      problem: [...a.findings.values()].some((f) => f.problem),
      diagnostics: a.diagnostics,
    });
    if (format !== 'text') continue;
    printDiagnostics(io, file, a.diagnostics);
  }
  if (format === 'json') io.out(JSON.stringify({ checked: files.length, found, incomplete, results }, null, 2) + '\n');
  else {
    for (const why of incomplete) io.err(`kbuild-diagnostics check: incomplete: ${why}\n`);
    if (results.length === 0 && incomplete.length === 0)
      io.err(
        `kbuild-diagnostics check: no make file that a rule (${rules.map((r) => r.id).join(', ')}) applies to was found\n`,
      );
  }
  return found > 0 ? 1 : incomplete.length > 0 ? 3 : 0;
}
