// Runs the rules on one make file with everything around it: the kernel tree it belongs to, the files
// beside it, and the build directory that holds its objects. Shared by the language server and the
// command line, so both give the same verdicts. Knows no rule: it loops over the ones it is given.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import type { Makefile } from './make/ast';
import { parseMakefile } from './make/parser';
import { listNamesSync, readRegularTextSync } from './fs/safeRead';
import { BuildReader, findBuildDirectories, holdsOutput, kernelRootOf, objDirOf } from './kbuild/buildModel';
import { includersOf } from './kbuild/includes';
import { loadKbuildTree } from './kbuild/kbuildTree';
import { readCmdFile } from './kbuild/cmdFile';
import { withRecordedCompiler, type Toolchain } from './kbuild/toolchain';
import type { BuildAccess, Links, MakefileContext, Rule, RuleFinding } from './rules/rule';

export interface AnalysisOptions {
  rules: readonly Rule[];
  reader: BuildReader;
  /** Folder holding the rules' explanation pages (`<rule id>.md`). */
  docsDir: string;
  /** The build directory the user chose (setting or --build-dir), absolute or relative to the tree. */
  buildDirectory?: string;
  /** Other folders whose children may be O= build directories (the workspace folders). */
  searchRoots?: string[];
  /** Set to false to judge the Makefile alone (no build directory). */
  useBuild?: boolean;
  /** The text already parsed (the editor's document model), so the edit path parses once. */
  makefile?: Makefile;
  /**
   * Remembers what does not change between edits (kernel root, build directories, evidence). The
   * server passes one and clears it when its file watcher reports build changes; without one,
   * everything is looked up again.
   */
  cache?: AnalysisCache;
}

/** Lookups that stay valid until the build directory or the settings change. */
export class AnalysisCache {
  private roots = new Map<string, Promise<string | undefined>>();
  private buildDirs = new Map<string, Promise<string | undefined>>();
  private memos = new Map<string, Promise<unknown>>();

  kernelRoot(file: string): Promise<string | undefined> {
    const dir = path.dirname(file);
    let hit = this.roots.get(dir);
    if (!hit) this.roots.set(dir, (hit = kernelRootOf(file)));
    return hit;
  }

  buildDir(key: string, find: () => Promise<string | undefined>): Promise<string | undefined> {
    let hit = this.buildDirs.get(key);
    if (!hit) this.buildDirs.set(key, (hit = find()));
    return hit;
  }

  memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let hit = this.memos.get(key) as Promise<T> | undefined;
    if (!hit) this.memos.set(key, (hit = compute()));
    return hit;
  }

  /** The build changed: forget build directories and evidence (kernel roots stay). */
  buildChanged(): void {
    this.buildDirs.clear();
    this.memos.clear();
  }

  clear(): void {
    this.roots.clear();
    this.buildChanged();
  }
}

export interface FileAnalysis {
  file: string;
  kernelRoot?: string;
  /** The file's directory relative to the kernel tree. */
  objDir: string;
  /** The build directory that holds this directory's output, when a rule applies and one was found. */
  buildDir?: string;
  /** Rule id -> what it found, for the rules that apply to this file. */
  findings: Map<string, RuleFinding>;
  /** Every rule's diagnostics, in registry order. */
  diagnostics: Diagnostic[];
  /** What could not be read or evaluated in full, by any rule: the result is not "clean". */
  incomplete: string[];
  /** The document version analyzed (set by the server; null: the file on disk). */
  version?: number | null;
}

const MAX_SIBLING_BYTES = 4 * 1024 * 1024;

/** Reads a file beside the Makefile, bounded in size; undefined when absent or unreadable. */
function siblingReader(dir: string): (name: string) => string | undefined {
  return (name) => {
    if (name.includes('/') || name.includes('\0')) return undefined;
    // Regular files only: a link to /dev/zero or a FIFO named like the linker script is not read.
    const r = readRegularTextSync(path.join(dir, name), { maxBytes: MAX_SIBLING_BYTES });
    return r.ok ? r.text : undefined;
  };
}

/**
 * The rules' views of a make file: parsed, placed in its tree, with the tree's Kbuild when it has
 * one; one view per make file beside it that includes it (read where it is included), else one.
 */
export function makefileContexts(
  file: string,
  text: string,
  kernelRoot: string | undefined,
  makefile?: Makefile,
  buildDir?: string,
): MakefileContext[] {
  const dir = path.dirname(file);
  const objDir = objDirOf(kernelRoot, dir);
  const loaded = kernelRoot ? loadKbuildTree(kernelRoot, buildDir) : undefined;
  const tree =
    loaded && buildDir && !loaded.toolchain.compiler
      ? { ...loaded, toolchain: recordedToolchain(loaded.toolchain, path.join(buildDir, objDir)) }
      : loaded;
  const base: MakefileContext = {
    file,
    text,
    makefile: makefile ?? parseMakefile(text),
    kernelRoot,
    objDir,
    readSibling: siblingReader(dir),
    tree,
    buildDir,
  };
  const includers = kernelRoot ? includersOf(file, kernelRoot) : [];
  return includers.length > 0 ? includers.map((surroundings) => ({ ...base, surroundings })) : [base];
}

/** Most .cmd files read for the compiler a directory's compiles ran (when the configuration does not say). */
const MAX_TOOLCHAIN_CMD_FILES = 16;

/** The configuration's toolchain, completed by the compiler a .cmd file of `dir` names (its first compile). */
function recordedToolchain(t: Toolchain, dir: string): Toolchain {
  const listed = listNamesSync(dir);
  if (!listed) return t;
  const names = listed
    .filter((n) => n.startsWith('.') && n.endsWith('.o.cmd'))
    .sort()
    .slice(0, MAX_TOOLCHAIN_CMD_FILES);
  for (const n of names) {
    // An object's .cmd file is a few kilobytes (the command and its dependency list).
    const r = readRegularTextSync(path.join(dir, n), { maxBytes: 1024 * 1024 });
    if (!r.ok) continue;
    const read = readCmdFile(r.text);
    if (!read.ok) continue;
    for (const rec of read.records) {
      for (const c of rec.commands) {
        const found = withRecordedCompiler(
          t,
          c.words.map((w) => w.text),
          path.join(dir, n),
        );
        if (found !== t) return found;
      }
    }
  }
  return t;
}

/** The first of makefileContexts(): what fixes and patches are computed in. */
export function makefileContext(
  file: string,
  text: string,
  kernelRoot: string | undefined,
  makefile?: Makefile,
  buildDir?: string,
): MakefileContext {
  return makefileContexts(file, text, kernelRoot, makefile, buildDir)[0];
}

function explanationUri(docsDir: string, ruleId: string): string {
  return pathToFileURL(path.join(docsDir, `${ruleId}.md`)).toString();
}

/**
 * The build directory of a make file's directory (the first that holds its output), and the access
 * rules get to it; lookups go through `cache`. Used for analyses and for checking fixes.
 */
export function buildAccessFor(
  kernelRoot: string | undefined,
  objDir: string,
  opts: Pick<AnalysisOptions, 'useBuild' | 'buildDirectory' | 'searchRoots' | 'reader'>,
  cache: AnalysisCache,
): { findBuildDir: () => Promise<string | undefined>; build: () => Promise<BuildAccess | undefined> } {
  const findBuildDir = async (): Promise<string | undefined> => {
    if (opts.useBuild === false || !kernelRoot) return undefined;
    return cache.buildDir(`${kernelRoot}\0${objDir}`, async () =>
      (await findBuildDirectories(kernelRoot, { configured: opts.buildDirectory, searchRoots: opts.searchRoots })).find(
        (d) => holdsOutput(d, objDir),
      ),
    );
  };
  const build = async (): Promise<BuildAccess | undefined> => {
    const buildDir = await findBuildDir();
    return buildDir ? { buildDir, reader: opts.reader, memo: (key, compute) => cache.memo(key, compute) } : undefined;
  };
  return { findBuildDir, build };
}

export async function analyzeFile(file: string, text: string, opts: AnalysisOptions): Promise<FileAnalysis> {
  // A rule looks only at files that pass its cheap prefilter (as the workspace scan does).
  const rules = opts.rules.filter((r) => passesPrefilter(r, text));
  if (rules.length === 0) return { file, objDir: '.', findings: new Map(), diagnostics: [], incomplete: [] };
  // Without the server's cache, one for this analysis: each lookup below is made once.
  const cache = opts.cache ?? new AnalysisCache();
  const kernelRoot = await cache.kernelRoot(file);
  const objDir = objDirOf(kernelRoot, path.dirname(file));
  const { findBuildDir, build } = buildAccessFor(kernelRoot, objDir, opts, cache);
  // The build's configuration decides which of the tree's Kbuild lines apply.
  const contexts = makefileContexts(file, text, kernelRoot, opts.makefile, await findBuildDir());
  const result: FileAnalysis = { file, kernelRoot, objDir, findings: new Map(), diagnostics: [], incomplete: [] };

  for (const rule of rules) {
    const links: Links = {
      makefileUri: pathToFileURL(file).toString(),
      docUri: explanationUri(opts.docsDir, rule.id),
      fileUri: (p) => pathToFileURL(p).toString(),
    };
    // In each includer's context; the first that finds a problem speaks for the file.
    let finding: RuleFinding | undefined;
    for (const ctx of contexts) {
      const f = await rule.analyze(ctx, build, links);
      if (f && (!finding || (f.problem && !finding.problem))) finding = f;
    }
    if (!finding) continue;
    result.findings.set(rule.id, finding);
    result.diagnostics.push(...finding.diagnostics);
    for (const why of finding.incomplete ?? []) if (!result.incomplete.includes(why)) result.incomplete.push(why);
  }
  if (result.findings.size > 0) result.buildDir = await findBuildDir();
  return result;
}

function passesPrefilter(rule: Rule, text: string): boolean {
  return rule.prefilter.some((s) => text.includes(s));
}

/** True when some rule's prefilter matches the text (the scan reads only such files). */
export function mayApply(rules: readonly Rule[], text: string): boolean {
  return rules.some((r) => passesPrefilter(r, text));
}
