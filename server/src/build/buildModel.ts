// The build model: where a kernel tree's build directory is (the tree itself or an O= directory),
// which objects and Kbuild .cmd files it holds, and what they show. This is the I/O edge of the
// analysis: everything read here is cached by path, size and mtime and re-read only when it changes.
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { Span } from '../make/ast';
import { parseMakefile } from '../make/parser';
import { readObject } from '../elf/reader';
import { openFileSource } from '../elf/source';
import { genHyprelVerdict } from '../elf/genHyprel';
import { offendingReason } from '../elf/offending';
import type { ElfSection, ObjectKind } from '../elf/types';
import { effectiveProfileUse } from '../rules/profileFlags';
import { splitCommands } from '../rules/shellCommands';

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

/**
 * The kernel tree that holds `file`: the nearest directory above it with scripts/Kbuild.include,
 * else the topmost one with a Kbuild file (arch/<arch>/ has a Kbuild file of its own).
 */
export async function kernelRootOf(file: string): Promise<string | undefined> {
  let dir = path.dirname(path.resolve(file));
  let topmostKbuild: string | undefined;
  for (let i = 0; i < 64; i++) {
    if (await exists(path.join(dir, 'scripts', 'Kbuild.include'))) return dir;
    if (await exists(path.join(dir, 'Kbuild'))) topmostKbuild = dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return topmostKbuild;
}

async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

/** True when `dir` is an O= build directory of `sourceRoot`: Kbuild writes a `source` link there. */
async function isOutputDirOf(dir: string, sourceRoot: string): Promise<boolean> {
  const target = await realpathOrUndefined(path.join(dir, 'source'));
  const root = await realpathOrUndefined(sourceRoot);
  return target !== undefined && target === root;
}

/**
 * Build directories of a kernel tree: the configured one (when it is one), O= directories among the
 * tree's and the workspace folders' children, and the tree itself when it holds build output.
 */
export async function findBuildDirectories(sourceRoot: string, opts: { configured?: string; searchRoots?: string[] } = {}): Promise<string[]> {
  const found: string[] = [];
  const add = (d: string) => {
    const r = path.resolve(d);
    if (!found.includes(r)) found.push(r);
  };
  if (opts.configured) {
    const c = path.isAbsolute(opts.configured) ? opts.configured : path.join(sourceRoot, opts.configured);
    if (await statOrUndefined(c)) add(c);
  }
  for (const base of [sourceRoot, ...(opts.searchRoots ?? [])]) {
    if (await isOutputDirOf(base, sourceRoot)) add(base);
    let entries: string[];
    try {
      entries = (await fs.readdir(base, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of entries.slice(0, 2000)) {
      const d = path.join(base, name);
      if (await isOutputDirOf(d, sourceRoot)) add(d);
    }
  }
  // In-tree builds leave .config and include/generated behind.
  if (await exists(path.join(sourceRoot, 'include', 'generated')) || await exists(path.join(sourceRoot, '.config'))) add(sourceRoot);
  return found;
}

export interface OffendingSection {
  section: ElfSection;
  reason: string;
}

export interface ObjectReport {
  path: string;
  object?: ObjectKind;
  offending: OffendingSection[];
  /** What gen-hyprel would print for this object, when it would reject it. */
  genHyprelMessage?: string;
  /** The name gen-hyprel's verdict was computed for (absent when it was not asked for). */
  genHyprelPath?: string;
  error?: string;
  bytesRead: number;
}

export interface FlagEvidence {
  cmdFile: string;
  target: string;
  flag: string;
  span: Span;
}

interface CacheEntry<T> {
  size: number;
  mtimeMs: number;
  value: T;
}

/** Reads objects and .cmd files, keeping results keyed by path, size and mtime. */
export class BuildReader {
  private objects = new Map<string, CacheEntry<ObjectReport>>();
  private cmds = new Map<string, CacheEntry<FlagEvidence[]>>();
  /** Bytes read from objects since creation (for benchmarks and tests). */
  bytesRead = 0;

  invalidate(file: string): void {
    this.objects.delete(file);
    this.cmds.delete(file);
  }

  clear(): void {
    this.objects.clear();
    this.cmds.clear();
  }

  /**
   * Reads an object's sections; `genHyprelPath` asks for gen-hyprel's verdict as if it read the object
   * under that (build-relative) name.
   */
  async readObject(file: string, genHyprelPath?: string): Promise<ObjectReport> {
    const st = await statOrUndefined(file);
    if (!st) return { path: file, offending: [], error: 'file not found', bytesRead: 0 };
    const cached = this.objects.get(file);
    const verdictKnown = (r: ObjectReport) => !genHyprelPath || r.genHyprelPath === genHyprelPath || r.object?.kind !== 'elf';
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs && verdictKnown(cached.value)) return cached.value;
    const report = await readObjectReport(file, genHyprelPath);
    this.bytesRead += report.bytesRead;
    // A file rewritten while it was read gets a fresh look next time.
    const after = await statOrUndefined(file);
    if (after && after.size === st.size && after.mtimeMs === st.mtimeMs) this.objects.set(file, { size: st.size, mtimeMs: st.mtimeMs, value: report });
    return report;
  }

  /** Profile-use flags that really reached the compiler, from a Kbuild .cmd file. */
  async readCmdFile(file: string): Promise<FlagEvidence[]> {
    const st = await statOrUndefined(file);
    if (!st || st.size > 64 * 1024 * 1024) return [];
    const cached = this.cmds.get(file);
    if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.value;
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return [];
    }
    const value = flagsOfCmdFile(file, text);
    this.cmds.set(file, { size: st.size, mtimeMs: st.mtimeMs, value });
    return value;
  }
}

async function readObjectReport(file: string, genHyprelPath?: string): Promise<ObjectReport> {
  let src;
  try {
    src = await openFileSource(file);
  } catch (e) {
    return { path: file, offending: [], error: e instanceof Error ? e.message : String(e), bytesRead: 0 };
  }
  try {
    const object = await readObject(src);
    const offending: OffendingSection[] = [];
    let genHyprelMessage: string | undefined;
    if (object.kind === 'elf') {
      for (const s of object.elf.sections) {
        const reason = offendingReason(s, object.elf);
        if (reason) offending.push({ section: s, reason });
      }
      if (genHyprelPath) {
        const verdict = await genHyprelVerdict(src, object, genHyprelPath);
        if (!verdict.accepted) genHyprelMessage = verdict.message;
      }
    }
    return { path: file, object, offending, genHyprelMessage, genHyprelPath: object.kind === 'elf' ? genHyprelPath : undefined, bytesRead: src.bytesRead };
  } catch (e) {
    return { path: file, offending: [], error: e instanceof Error ? e.message : String(e), bytesRead: src.bytesRead };
  } finally {
    await src.close();
  }
}

/** The command a Kbuild .cmd file records (`savedcmd_T := ...` or `cmd_T := ...`) and its profile flags. */
export function flagsOfCmdFile(file: string, text: string): FlagEvidence[] {
  const mf = parseMakefile(text);
  const out: FlagEvidence[] = [];
  for (const s of mf.statements) {
    if (s.kind !== 'assignment') continue;
    const m = /^(?:saved)?cmd_(.+)$/.exec(s.nameText.trim());
    if (!m) continue;
    for (const c of splitCommands(s.valueText)) {
      for (const eff of effectiveProfileUse(c.words)) {
        out.push({ cmdFile: file, target: m[1], flag: eff.flag, span: spanOfWord(text, s.valueSpan, eff.flag) });
      }
    }
  }
  return out;
}

function spanOfWord(text: string, within: Span, word: string): Span {
  const lines = text.split(/\r?\n/);
  for (let l = within.start.line; l <= within.end.line && l < lines.length; l++) {
    const at = lines[l].indexOf(word);
    if (at >= 0) return { start: { line: l, character: at }, end: { line: l, character: at + word.length } };
  }
  return within;
}

/** Object and .cmd files of one directory of a build directory. */
export async function listBuildFiles(dir: string): Promise<{ objects: string[]; cmdFiles: string[] }> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return { objects: [], cmdFiles: [] };
  }
  names.sort();
  return {
    objects: names.filter((n) => n.endsWith('.o')).map((n) => path.join(dir, n)),
    cmdFiles: names.filter((n) => n.startsWith('.') && n.endsWith('.cmd')).map((n) => path.join(dir, n)),
  };
}
