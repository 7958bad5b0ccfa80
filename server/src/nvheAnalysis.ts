// Runs the nvhe rule on one Makefile with everything around it: the kernel tree it belongs to,
// the linker script beside it, and the evidence in the build directory. Shared by the language
// server and the command line, so both give the same verdict.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { BuildReader, findBuildDirectories, kernelRootOf, listBuildFiles, type ObjectReport } from './build/buildModel';
import type { Makefile } from './make/ast';
import { parseMakefile } from './make/parser';
import { nvheDiagnostic, type BuildEvidence } from './rules/nvheDiagnostic';
import { analyzeNvhe, type NvheVerdict, type RuleInput } from './rules/nvheProfileMetadata';
import { splitLines } from './rules/nvheFixes';

export interface AnalysisOptions {
  reader: BuildReader;
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
  private evidence = new Map<string, Promise<BuildEvidence>>();

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

  buildEvidence(key: string, collect: () => Promise<BuildEvidence>): Promise<BuildEvidence> {
    let hit = this.evidence.get(key);
    if (!hit) this.evidence.set(key, (hit = collect()));
    return hit;
  }

  /** The build changed: forget build directories and evidence (kernel roots stay). */
  buildChanged(): void {
    this.buildDirs.clear();
    this.evidence.clear();
  }

  clear(): void {
    this.roots.clear();
    this.buildChanged();
  }
}

export interface MakefileAnalysis {
  file: string;
  makefile: Makefile;
  input: RuleInput;
  verdict?: NvheVerdict;
  kernelRoot?: string;
  buildDir?: string;
  evidence?: BuildEvidence;
  diagnostic?: Diagnostic;
}

const MAX_SIBLING_BYTES = 4 * 1024 * 1024;

/** Reads a file beside the Makefile, bounded in size; undefined when absent or unreadable. */
export function siblingReader(dir: string): (name: string) => string | undefined {
  return (name) => {
    if (name.includes('/') || name.includes('\0')) return undefined;
    const p = path.join(dir, name);
    try {
      if (statSync(p).size > MAX_SIBLING_BYTES) return undefined;
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  };
}

export const DOC_FILE = path.join(__dirname, '..', '..', 'docs', 'nvhe-profile-metadata.md');

export function ruleInputFor(file: string, text: string, kernelRoot: string | undefined, makefile?: Makefile): RuleInput {
  const dir = path.dirname(file);
  const objDir = kernelRoot ? path.relative(kernelRoot, dir) || '.' : '.';
  return { makefile: makefile ?? parseMakefile(text), objDir, readSibling: siblingReader(dir) };
}

/** The object gen-hyprel reads and the hyp objects linked into it, read from a build directory. */
export async function collectEvidence(verdict: NvheVerdict, buildDir: string, objDir: string, reader: BuildReader): Promise<BuildEvidence> {
  const input = verdict.pipeline.genHyprelInput;
  const objects: ObjectReport[] = [];
  const tmpPath = path.join(buildDir, input);
  const tmp = await reader.readObject(tmpPath, input);
  if (tmp.error !== 'file not found') objects.push(tmp);
  const producer = verdict.pipeline.rules.find((r) => r.targets.includes(input));
  const hypObjects = (producer?.prerequisites ?? []).filter((p) => p.endsWith('.o'));
  for (const o of hypObjects.slice(0, 500)) {
    const report = await reader.readObject(path.join(buildDir, o));
    if (report.error !== 'file not found') objects.push(report);
  }
  const { cmdFiles } = await listBuildFiles(path.join(buildDir, objDir));
  const wanted = new Set(hypObjects.map((o) => `.${path.basename(o)}.cmd`));
  const flags = [];
  for (const c of cmdFiles) if (wanted.has(path.basename(c))) flags.push(...(await reader.readCmdFile(c)));
  return { buildDir, objects, flags };
}

/** True when the directory of `objDir` in `buildDir` holds build output (objects or .cmd files). */
function hasOutput(buildDir: string, objDir: string): boolean {
  try {
    return readdirSync(path.join(buildDir, objDir)).some((n) => n.endsWith('.o') || (n.startsWith('.') && n.endsWith('.cmd')));
  } catch {
    return false;
  }
}

export async function analyzeMakefile(file: string, text: string, opts: AnalysisOptions): Promise<MakefileAnalysis> {
  const kernelRoot = opts.cache ? await opts.cache.kernelRoot(file) : await kernelRootOf(file);
  const input = ruleInputFor(file, text, kernelRoot, opts.makefile);
  const lines = splitLines(text);
  const verdict = analyzeNvhe(input, (l) => lines[l]?.length ?? 0);
  const result: MakefileAnalysis = { file, makefile: input.makefile, input, verdict, kernelRoot };
  if (!verdict) return result;
  if (opts.useBuild !== false && kernelRoot) {
    const objDir = input.objDir ?? '.';
    const find = async () => (await findBuildDirectories(kernelRoot, { configured: opts.buildDirectory, searchRoots: opts.searchRoots })).find((d) => hasOutput(d, objDir));
    const buildDir = opts.cache ? await opts.cache.buildDir(`${kernelRoot}\0${objDir}`, find) : await find();
    result.buildDir = buildDir;
    if (buildDir && (verdict.leaks || verdict.aliasLeak)) {
      const producer = verdict.pipeline.rules.find((r) => r.targets.includes(verdict.pipeline.genHyprelInput));
      const key = [buildDir, objDir, verdict.pipeline.genHyprelInput, ...(producer?.prerequisites ?? [])].join('\0');
      const collect = () => collectEvidence(verdict, buildDir, objDir, opts.reader);
      result.evidence = opts.cache ? await opts.cache.buildEvidence(key, collect) : await collect();
    }
  }
  result.diagnostic = nvheDiagnostic(
    verdict,
    {
      makefileUri: pathToFileURL(file).toString(),
      docUri: pathToFileURL(DOC_FILE).toString(),
      fileUri: (p) => pathToFileURL(p).toString(),
    },
    result.evidence,
  );
  return result;
}
