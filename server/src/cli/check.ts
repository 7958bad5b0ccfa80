// `kbuild-diagnostics check [PATH...] [--build-dir DIR] [--format text|json]`: the nvhe rule over
// files and trees, printed like a compiler (`file:line:col: severity: message [code]`) or as JSON.
// Exit 0 when nothing is found, 1 when something is, 2 on a usage error.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildReader } from '../build/buildModel';
import { findNvheMakefiles } from '../findMakefiles';
import { analyzeMakefile } from '../nvheAnalysis';
import type { CliIo } from './io';

const SEVERITY = ['', 'error', 'warning', 'note', 'note'];

export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const paths: string[] = [];
  let buildDir: string | undefined;
  let format: 'text' | 'json' = 'text';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--build-dir' || a === '-O') buildDir = args[++i];
    else if (a.startsWith('--build-dir=')) buildDir = a.slice('--build-dir='.length);
    else if (a === '--format') format = args[++i] as 'text' | 'json';
    else if (a.startsWith('--format=')) format = a.slice('--format='.length) as 'text' | 'json';
    else if (a.startsWith('-')) {
      io.err(`kbuild-diagnostics check: unknown option ${a}\n`);
      return 2;
    } else paths.push(a);
  }
  if (format !== 'text' && format !== 'json') {
    io.err(`kbuild-diagnostics check: --format takes text or json\n`);
    return 2;
  }
  if (buildDir !== undefined && buildDir === '') {
    io.err('kbuild-diagnostics check: --build-dir needs a directory\n');
    return 2;
  }
  if (paths.length === 0) paths.push('.');

  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await fs.stat(p);
    } catch {
      io.err(`kbuild-diagnostics check: ${p}: no such file or directory\n`);
      return 2;
    }
    if (st.isDirectory()) files.push(...(await findNvheMakefiles([path.resolve(p)])));
    else files.push(path.resolve(p));
  }

  const reader = new BuildReader();
  const results = [];
  let found = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      io.err(`kbuild-diagnostics check: ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    const a = await analyzeMakefile(file, text, { reader, buildDirectory: buildDir ? path.resolve(buildDir) : undefined, searchRoots: [process.cwd()] });
    if (!a.verdict) continue;
    const d = a.diagnostic;
    // Errors and warnings count; a hint is printed as a note but does not fail the check.
    if (d && (d.severity ?? 2) <= 2) found++;
    results.push({ file, nvhe: true, buildDirectory: a.buildDir ?? null, leaks: a.verdict.leaks, diagnostic: d ?? null });
    if (format === 'text' && d) {
      const rel = path.relative(process.cwd(), file) || file;
      io.out(`${rel}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${SEVERITY[d.severity ?? 2]}: ${d.message} [${String(d.code)}]\n`);
      for (const r of d.relatedInformation ?? []) {
        const where = r.location.uri.startsWith('file:') ? path.relative(process.cwd(), fileURLToPath(r.location.uri)) : r.location.uri;
        io.out(`${where}:${r.location.range.start.line + 1}:${r.location.range.start.character + 1}: note: ${r.message}\n`);
      }
    }
  }
  if (format === 'json') io.out(JSON.stringify({ checked: files.length, found, results }, null, 2) + '\n');
  else if (files.length === 0) io.err('kbuild-diagnostics check: no nvhe Makefile (one that runs gen-hyprel) found\n');
  return found > 0 ? 1 : 0;
}
