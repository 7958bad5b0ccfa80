// Make files that include others: which files in a directory include a given make file (Android's
// nvhe/Makefile and Makefile.module include Makefile.nvhe), and what make reads around the included
// file in each includer. A file that others include is judged in the context of each includer, as
// make reads it: the includer's statements before the `include` line, the file, the statements after.
import * as path from 'node:path';
import { listNamesSync, readRegularTextSync } from '../fs/safeRead';
import { FileStateMemo } from '../fs/readRecord';
import type { Makefile, Statement } from '../make/ast';
import { evaluateMakefile } from '../make/evaluator';
import { parseMakefile } from '../make/parser';
import { splitWords } from '../make/values';
import { isMakeFileName } from './findMakefiles';
import { objDirOf } from './buildModel';

const MAX_INCLUDER_BYTES = 1024 * 1024;

/** The statements make reads before and after an included file, in one includer. */
export interface Surroundings {
  includer: string;
  before: Statement[];
  after: Statement[];
}

/** The files an `include` statement names, resolved as Kbuild runs make (from the tree's top). */
function includedFiles(
  stmt: Extract<Statement, { kind: 'include' }>,
  expand: (e: Extract<Statement, { kind: 'include' }>['files']) => string,
  kernelRoot: string,
): string[] {
  return splitWords(expand(stmt.files)).map((w) => path.resolve(kernelRoot, w));
}

/** Top-level statements of `mf` split around the first include of `target`, if it has one. */
function splitAround(
  mf: Makefile,
  file: string,
  target: string,
  kernelRoot: string,
  objDir: string,
): Surroundings | undefined {
  const ev = evaluateMakefile(mf, { initial: { srctree: kernelRoot, objtree: kernelRoot, src: objDir, obj: objDir } });
  const top = mf.statements;
  for (let i = 0; i < top.length; i++) {
    const s = top[i];
    if (s.kind !== 'include') continue;
    if (includedFiles(s, (e) => ev.expand(e), kernelRoot).includes(target))
      return { includer: file, before: top.slice(0, i), after: top.slice(i + 1) };
  }
  return undefined;
}

/** The make files beside `file` that include it, with what make reads around it in each. */
export function includersOf(file: string, kernelRoot: string): Surroundings[] {
  // Asked on every edit; the answer changes only with the folder's entries and its make files.
  return includers.get(`${file}\0${kernelRoot}`, () => findIncluders(file, kernelRoot));
}

/** A pure function of the files it reads, checked against their state on each use (fs/readRecord.ts). */
const includers = new FileStateMemo<Surroundings[]>(64);

function findIncluders(file: string, kernelRoot: string): Surroundings[] {
  const dir = path.dirname(file);
  const objDir = objDirOf(kernelRoot, dir);
  const names = (listNamesSync(dir) ?? []).filter((n) => isMakeFileName(n) && n !== path.basename(file)).sort();
  const out: Surroundings[] = [];
  for (const name of names.slice(0, 64)) {
    const p = path.join(dir, name);
    const r = readRegularTextSync(p, { maxBytes: MAX_INCLUDER_BYTES });
    if (!r.ok) continue;
    const text = r.text;
    // Cheap test first: the includer names the file.
    if (!text.includes(path.basename(file))) continue;
    const around = splitAround(parseMakefile(text), p, path.resolve(file), kernelRoot, objDir);
    if (around) out.push(around);
  }
  return out;
}
