// The section explorer's requests: build directories of the workspace's kernel trees, the objects
// that matter in each (the nvhe pipeline stages, plus objects the user added), the sections of one
// object with the ones that break the pipeline marked, the llvm-readelf section table, and a
// comparison of two objects.
//
// Lazy and bounded: listing objects stats them and reads at most the ELF header and section header
// table of the first MAX_STATUS_READS (through the workspace's BuildReader, cached by size and mtime);
// walks of a build tree are capped, yield to the event loop and stop on invalidate(). Everything is
// recomputed after invalidate().
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ResponseError, LSPErrorCodes, type CancellationToken } from 'vscode-languageserver';
import { findBuildDirectories, kernelRootOf, type ObjectReport } from '../build/buildModel';
import { formatAllRelocations, formatSectionTable, hexNoPrefix } from '../elf/format';
import { readObject } from '../elf/reader';
import { openFileSource } from '../elf/source';
import type { ElfSection, ObjectKind } from '../elf/types';
import {
  addObject, compareObjects, listBuildDirectories, listObjects, listSections, sectionTable,
  type BuildDirectoryInfo, type ObjectInfo, type ObjectStatus, type PipelineStage, type RequestDef, type SectionInfo,
} from '../lspExt';
import { pathToUri, uriToPath, type Workspace } from '../workspace';

/** Most objects one listing returns (the rest are counted in `truncated`). */
export const MAX_LISTED_OBJECTS = 2000;
/** Most objects whose headers one listing reads for their status; the rest are 'unknown' until expanded. */
export const MAX_STATUS_READS = 256;
/** Most directory entries a name-based walk of one build tree looks at. */
export const MAX_WALK_ENTRIES = 400_000;
/** How long listBuildDirectories waits for object counts before answering without them. */
const COUNT_BUDGET_MS = 300;
/** Largest section table / relocation text handed to the client. */
const MAX_TABLE_CHARS = 8 * 1024 * 1024;
/** The nvhe directory, where Kbuild puts the pipeline objects. */
const NVHE_DIR = path.join('arch', 'arm64', 'kvm', 'hyp', 'nvhe');
const STAGE_ORDER: PipelineStage[] = ['hyp-object', 'tmp', 'rel', 'final', 'other'];

interface Candidate {
  file: string;
  stage: PipelineStage;
  added?: boolean;
}

interface BuildDir {
  dir: string;
  sourceRoot: string;
}

interface Listing {
  objects: ObjectInfo[];
  truncated: number;
}

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

/** Kbuild's names for the pipeline stages (used when no nvhe Makefile analysis is known). */
export function stageByName(file: string): PipelineStage | undefined {
  const b = path.basename(file);
  if (b === 'kvm_nvhe.tmp.o') return 'tmp';
  if (b === 'kvm_nvhe.rel.o') return 'rel';
  if (b === 'kvm_nvhe.o') return 'final';
  if (b.endsWith('.nvhe.o')) return 'hyp-object';
  return undefined;
}

/** .debug_*, .zdebug_*, DWARF-ish and their relocation sections. */
export function isDebugSection(name: string): boolean {
  const n = name.replace(/^\.rela?(?=\.)/, '');
  return /^\.(z?debug_|gnu\.debuglto_|stab|line$|debug$|gdb_index$|BTF)/.test(n);
}

function objectKindProblem(obj: ObjectKind | undefined): string | undefined {
  if (!obj) return undefined;
  switch (obj.kind) {
    case 'elf':
      return undefined;
    case 'bitcode':
      return 'LLVM bitcode (an LTO build): no ELF sections until the final link';
    case 'archive':
      return `${obj.thin ? 'thin ' : ''}archive with ${obj.members.length} members`;
    case 'empty':
      return 'empty file';
    case 'unknown':
      return obj.description;
  }
}

function statusOf(report: ObjectReport): { status: ObjectStatus; problem?: string } {
  if (report.error) return { status: 'error', problem: report.error };
  if (report.object?.kind !== 'elf') return { status: 'not-elf', problem: objectKindProblem(report.object) };
  if (report.offending.length > 0 || report.genHyprelMessage) {
    const first = report.offending[0];
    return { status: 'offending', problem: first ? first.reason : report.genHyprelMessage };
  }
  return { status: 'ok' };
}

function toSectionInfo(s: ElfSection, offending: string | undefined): SectionInfo {
  const hex = (v: bigint): string => `0x${hexNoPrefix(v, 1)}`;
  return {
    index: s.index,
    name: s.name,
    type: s.type,
    typeName: s.typeName,
    flags: BigInt.asUintN(64, s.flags).toString(),
    flagLetters: s.flagLetters,
    address: hex(s.addr),
    offset: hex(s.offset),
    size: hex(s.size),
    entsize: hex(s.entsize),
    link: s.link,
    info: s.info,
    alignment: s.addralign.toString(),
    ...(offending ? { offending } : {}),
    debug: isDebugSection(s.name),
  };
}

/** The section name gen-hyprel's message is about (`... section "NAME"`), if any. */
function sectionNamedIn(message: string): string | undefined {
  return /section "([^"]*)"/.exec(message)?.[1];
}

function pathOfUri(uri: string, what: string): string {
  const p = uriToPath(uri);
  if (!p) throw new ResponseError(LSPErrorCodes.RequestFailed, `${what}: not a file URI: ${uri}`);
  return p;
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function registerSectionExplorer(ws: Workspace): { invalidate(): void } {
  let generation = 0;
  let buildDirs: Promise<BuildDir[]> | undefined;
  const listings = new Map<string, Promise<Listing>>();
  /** Objects the user added, by path; kept across invalidate(). */
  const added = new Set<string>();
  /** Stage of every listed object (so listSections knows the gen-hyprel input without a re-walk). */
  const stages = new Map<string, PipelineStage>();

  const checkGen = (gen: number): void => {
    if (gen !== generation) throw new Cancelled();
  };

  function handle<P, R>(def: RequestDef<P, R>, handler: (params: P, token: CancellationToken) => Promise<R>): void {
    ws.connection.onRequest(def.method, async (params: P, token: CancellationToken) => {
      try {
        return await handler(params, token);
      } catch (e) {
        if (e instanceof ResponseError) return e;
        if (e instanceof Cancelled) return new ResponseError(LSPErrorCodes.ContentModified, `${def.method}: the build changed; ask again`);
        return new ResponseError(LSPErrorCodes.RequestFailed, `${def.method} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }

  /** Waits for `p`, but gives up (the work goes on) when the request is cancelled. */
  function orCancel<T>(p: Promise<T>, token: CancellationToken): Promise<T> {
    if (token.isCancellationRequested) return Promise.reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled'));
    return new Promise<T>((resolve, reject) => {
      const sub = token.onCancellationRequested(() => reject(new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled')));
      p.then(resolve, reject).finally(() => sub.dispose());
    });
  }

  async function computeBuildDirs(): Promise<BuildDir[]> {
    const roots = new Set<string>();
    for (const r of ws.roots) {
      const k = await kernelRootOf(path.join(r, '.probe'));
      if (k) roots.add(k);
    }
    for (const a of ws.analyses.values()) if (a.verdict && a.kernelRoot) roots.add(a.kernelRoot);
    const out: BuildDir[] = [];
    const seen = new Set<string>();
    for (const root of roots) {
      const dirs = await findBuildDirectories(root, { configured: ws.settings.buildDirectory || undefined, searchRoots: ws.roots });
      for (const d of dirs) {
        if (seen.has(d)) continue;
        seen.add(d);
        out.push({ dir: d, sourceRoot: root });
      }
    }
    for (const a of ws.analyses.values()) {
      if (a.verdict && a.buildDir && !seen.has(a.buildDir)) {
        seen.add(a.buildDir);
        out.push({ dir: a.buildDir, sourceRoot: a.kernelRoot ?? '' });
      }
    }
    // Folders of added objects that no build directory holds.
    for (const f of added) {
      if (out.some((b) => isInside(f, b.dir))) continue;
      const d = path.dirname(f);
      if (!seen.has(d)) {
        seen.add(d);
        out.push({ dir: d, sourceRoot: '' });
      }
    }
    return out;
  }

  function getBuildDirs(): Promise<BuildDir[]> {
    buildDirs ??= computeBuildDirs();
    return buildDirs;
  }

  /** Pipeline objects by meaning, from an nvhe Makefile analysis of this build directory. */
  function candidatesFromAnalysis(buildDir: string): Candidate[] | undefined {
    for (const a of ws.analyses.values()) {
      const p = a.verdict?.pipeline;
      if (!p || a.buildDir !== buildDir) continue;
      const out: Candidate[] = [];
      const push = (rel: string, stage: PipelineStage) => {
        const file = path.join(buildDir, rel);
        if (!out.some((c) => c.file === file)) out.push({ file, stage });
      };
      const tmpRule = p.rules.find((r) => r.targets.includes(p.genHyprelInput));
      for (const o of tmpRule?.prerequisites ?? []) if (o.endsWith('.o')) push(o, 'hyp-object');
      push(p.genHyprelInput, 'tmp');
      const hypcopy = p.hypcopy;
      const copyRule = hypcopy ? p.rules.find((r) => r.commands.includes(hypcopy)) : undefined;
      for (const o of copyRule?.prerequisites ?? []) if (o.endsWith('.o')) push(o, 'rel');
      for (const t of copyRule?.targets ?? []) if (t.endsWith('.o')) push(t, 'final');
      return out;
    }
    return undefined;
  }

  /** Pipeline objects by Kbuild's names: the nvhe directory when it exists, else a bounded walk. */
  async function candidatesByName(buildDir: string, gen: number): Promise<{ files: Candidate[]; others: string[] }> {
    const files: Candidate[] = [];
    const others: string[] = [];
    const nvhe = path.join(buildDir, NVHE_DIR);
    const scanDir = async (dir: string, names: string[]): Promise<void> => {
      for (const n of names) {
        if (!n.endsWith('.o')) continue;
        const f = path.join(dir, n);
        const stage = stageByName(f);
        if (stage) files.push({ file: f, stage });
        else if (dir === nvhe) others.push(f);
      }
    };
    const direct = await fs.readdir(nvhe).catch(() => undefined);
    if (direct) {
      direct.sort();
      await scanDir(nvhe, direct);
      return { files, others };
    }
    // No conventional nvhe directory: walk the tree (no symlinks), bounded and cancellable.
    const queue = [buildDir];
    let seen = 0;
    for (let i = 0; i < queue.length && seen < MAX_WALK_ENTRIES; i++) {
      checkGen(gen);
      let entries;
      try {
        entries = await fs.readdir(queue[i], { withFileTypes: true });
      } catch {
        continue;
      }
      seen += entries.length;
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const names: string[] = [];
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'source') queue.push(path.join(queue[i], e.name));
        else if (e.isFile()) names.push(e.name);
      }
      await scanDir(queue[i], names);
      if (i % 32 === 0) await yieldToLoop();
    }
    return { files, others };
  }

  async function objectInfo(buildDir: string, c: Candidate, st: Stats | undefined, readStatus: boolean): Promise<ObjectInfo> {
    const info: ObjectInfo = {
      uri: pathToUri(c.file),
      relativePath: path.relative(buildDir, c.file) || path.basename(c.file),
      stage: c.stage,
      status: 'unknown',
      ...(c.added ? { added: true } : {}),
    };
    if (!st) return { ...info, status: 'error', problem: 'file not found' };
    info.size = st.size;
    if (!readStatus) return info;
    const report = await ws.reader.readObject(c.file, c.stage === 'tmp' ? path.relative(buildDir, c.file) : undefined);
    const s = statusOf(report);
    info.status = s.status;
    if (s.problem) info.problem = s.problem;
    if (report.genHyprelMessage) info.genHyprelMessage = report.genHyprelMessage;
    if (report.object?.kind === 'elf') {
      info.sectionCount = report.object.elf.sections.length;
      info.offendingCount = report.offending.length;
    }
    return info;
  }

  async function computeListing(buildDir: string, gen: number): Promise<Listing> {
    let candidates = candidatesFromAnalysis(buildDir);
    let others: string[] = [];
    if (!candidates) {
      const byName = await candidatesByName(buildDir, gen);
      candidates = byName.files;
      others = byName.others;
    } else {
      const nvheDirs = new Set(candidates.map((c) => path.dirname(c.file)));
      for (const d of nvheDirs) {
        const names = (await fs.readdir(d).catch(() => [] as string[])).filter((n) => n.endsWith('.o')).sort();
        for (const n of names) {
          const f = path.join(d, n);
          if (!candidates.some((c) => c.file === f)) others.push(f);
        }
      }
    }
    checkGen(gen);
    const list: Candidate[] = [...candidates].sort((a, b) => STAGE_ORDER.indexOf(a.stage) - STAGE_ORDER.indexOf(b.stage));
    for (const o of others) list.push({ file: o, stage: 'other' });
    for (const f of added) {
      if (!isInside(f, buildDir) && path.dirname(f) !== buildDir) continue;
      const existing = list.find((c) => c.file === f);
      if (existing) existing.added = true;
      else list.push({ file: f, stage: stageByName(f) ?? 'other', added: true });
    }
    const shown = list.slice(0, MAX_LISTED_OBJECTS);
    const objects: ObjectInfo[] = new Array<ObjectInfo>(shown.length);
    // Stat everything shown (cheap); read headers of the first MAX_STATUS_READS, pipeline stages first.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < shown.length) {
        const i = next++;
        const c = shown[i];
        const st = await statOrUndefined(c.file);
        // Stages listed by name or meaning but not built (yet) are left out; added ones stay, marked.
        objects[i] = await objectInfo(buildDir, c, st, i < MAX_STATUS_READS);
        if (i % 64 === 0) {
          checkGen(gen);
          await yieldToLoop();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    checkGen(gen);
    const present = objects.filter((o, i) => o.problem !== 'file not found' || shown[i].added);
    for (const o of present) stages.set(uriToPath(o.uri) ?? '', o.stage);
    return { objects: present, truncated: list.length - shown.length };
  }

  function getListing(buildDir: string): Promise<Listing> {
    let p = listings.get(buildDir);
    if (!p) {
      p = computeListing(buildDir, generation);
      listings.set(buildDir, p);
      // A failed or cancelled listing is not kept.
      p.catch(() => {
        if (listings.get(buildDir) === p) listings.delete(buildDir);
      });
    }
    return p;
  }

  function stageOf(file: string): PipelineStage {
    const known = stages.get(file);
    if (known) return known;
    for (const a of ws.analyses.values()) {
      const p = a.verdict?.pipeline;
      if (p && a.buildDir && path.join(a.buildDir, p.genHyprelInput) === file) return 'tmp';
    }
    return stageByName(file) ?? 'other';
  }

  async function buildDirOf(file: string): Promise<string | undefined> {
    const dirs = await getBuildDirs();
    return dirs.filter((b) => isInside(file, b.dir)).sort((a, b) => b.dir.length - a.dir.length)[0]?.dir;
  }

  async function requireFile(uri: string, what: string): Promise<string> {
    const file = pathOfUri(uri, what);
    const st = await statOrUndefined(file);
    if (!st) throw new ResponseError(LSPErrorCodes.RequestFailed, `${what}: ${file}: no such file`);
    if (!st.isFile()) throw new ResponseError(LSPErrorCodes.RequestFailed, `${what}: ${file}: not a regular file`);
    return file;
  }

  handle(listBuildDirectories, async (_params, token) => {
    const dirs = await orCancel(getBuildDirs(), token);
    const builds: BuildDirectoryInfo[] = [];
    for (const b of dirs) {
      const info: BuildDirectoryInfo = { uri: pathToUri(b.dir), sourceUri: b.sourceRoot ? pathToUri(b.sourceRoot) : '' };
      const listing = getListing(b.dir);
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), COUNT_BUDGET_MS);
      });
      const done = await orCancel(Promise.race([listing.catch(() => undefined), budget]), token).finally(() => clearTimeout(timer));
      if (done) {
        info.objectCount = done.objects.length + done.truncated;
        info.offending = done.objects.some((o) => o.status === 'offending');
      }
      builds.push(info);
    }
    return { builds };
  });

  handle(listObjects, async ({ buildUri }, token) => {
    const dir = pathOfUri(buildUri, 'listObjects');
    const st = await statOrUndefined(dir);
    if (!st?.isDirectory()) throw new ResponseError(LSPErrorCodes.RequestFailed, `listObjects: ${dir}: no such directory`);
    const l = await orCancel(getListing(path.resolve(dir)), token);
    return l.truncated > 0 ? { objects: l.objects, truncated: l.truncated } : { objects: l.objects };
  });

  handle(listSections, async ({ objectUri }) => {
    const file = await requireFile(objectUri, 'listSections');
    const stage = stageOf(file);
    const buildDir = (await buildDirOf(file)) ?? path.dirname(file);
    const report = await ws.reader.readObject(file, stage === 'tmp' ? path.relative(buildDir, file) : undefined);
    const object = await objectInfo(buildDir, { file, stage, added: added.has(file) }, await statOrUndefined(file), true);
    if (report.error) return { sections: [], error: report.error, object };
    if (report.object?.kind !== 'elf') return { sections: [], error: objectKindProblem(report.object), object };
    const reasons = new Map<number, string>();
    for (const o of report.offending) reasons.set(o.section.index, o.reason);
    if (report.genHyprelMessage) {
      const named = sectionNamedIn(report.genHyprelMessage);
      const s = named !== undefined ? report.object.elf.sections.find((x) => x.name === named) : undefined;
      if (s) reasons.set(s.index, reasons.has(s.index) ? `${reasons.get(s.index)}. gen-hyprel: ${report.genHyprelMessage}` : `gen-hyprel would stop here: ${report.genHyprelMessage}`);
    }
    return { sections: report.object.elf.sections.map((s) => toSectionInfo(s, reasons.get(s.index))), object };
  });

  handle(sectionTable, async ({ objectUri, relocations }) => {
    const file = await requireFile(objectUri, 'sectionTable');
    const src = await openFileSource(file);
    try {
      const obj = await readObject(src);
      if (obj.kind !== 'elf') return { text: `${file}: ${objectKindProblem(obj) ?? obj.kind}\n` };
      let text = formatSectionTable(obj.elf, file);
      if (relocations) {
        const parts: string[] = [];
        let size = 0;
        const stop = new Cancelled();
        try {
          await formatAllRelocations(src, obj.elf, (chunk) => {
            parts.push(chunk);
            size += chunk.length;
            if (size > MAX_TABLE_CHARS) throw stop;
          });
        } catch (e) {
          if (e !== stop) throw e;
          parts.push(`\n[... relocations cut at ${MAX_TABLE_CHARS} characters; run llvm-readelf -r for all]\n`);
        }
        text += parts.join('');
      }
      return { text };
    } finally {
      await src.close();
    }
  });

  handle(compareObjects, async ({ leftUri, rightUri }) => {
    const left = await requireFile(leftUri, 'compareObjects');
    const right = await requireFile(rightUri, 'compareObjects');
    const [l, r] = await Promise.all([ws.reader.readObject(left), ws.reader.readObject(right)]);
    for (const [f, rep] of [[left, l], [right, r]] as const) {
      if (rep.error) throw new ResponseError(LSPErrorCodes.RequestFailed, `compareObjects: ${f}: ${rep.error}`);
      if (rep.object?.kind !== 'elf') throw new ResponseError(LSPErrorCodes.RequestFailed, `compareObjects: ${f}: ${objectKindProblem(rep.object)}`);
    }
    const ls = l.object?.kind === 'elf' ? l.object.elf.sections.filter((s) => s.index !== 0) : [];
    const rs = r.object?.kind === 'elf' ? r.object.elf.sections.filter((s) => s.index !== 0) : [];
    const byName = (xs: ElfSection[]) => new Map(xs.map((s) => [s.name, s] as const));
    const lm = byName(ls);
    const rm = byName(rs);
    const onlyLeft = [...lm.keys()].filter((n) => !rm.has(n));
    const onlyRight = [...rm.keys()].filter((n) => !lm.has(n));
    const changed = [...lm.keys()].filter((n) => rm.has(n) && (lm.get(n)?.size !== rm.get(n)?.size || lm.get(n)?.type !== rm.get(n)?.type));
    const offendingL = new Set(l.offending.map((o) => o.section.name));
    const offendingR = new Set(r.offending.map((o) => o.section.name));
    const row = (s: ElfSection, bad: boolean) => `  ${bad ? '!' : ' '} ${s.name.padEnd(36)} ${s.typeName.padEnd(26)} size 0x${s.size.toString(16)}`;
    const lines = [
      `Sections of ${left}`,
      `     and of ${right}`,
      '',
      `Only in ${path.basename(left)} (${onlyLeft.length}):`,
      ...onlyLeft.map((n) => row(lm.get(n) as ElfSection, offendingL.has(n))),
      '',
      `Only in ${path.basename(right)} (${onlyRight.length}):`,
      ...onlyRight.map((n) => row(rm.get(n) as ElfSection, offendingR.has(n))),
      '',
      `In both, type or size changed (${changed.length}):`,
      ...changed.map((n) => {
        const a = lm.get(n) as ElfSection;
        const b = rm.get(n) as ElfSection;
        return `    ${n.padEnd(36)} ${a.typeName} 0x${a.size.toString(16)} -> ${b.typeName} 0x${b.size.toString(16)}`;
      }),
      '',
      `In both, unchanged: ${ls.length - onlyLeft.length - changed.length}`,
      '',
      '! = breaks the nvhe pipeline (call-graph profile metadata or a SHT_REL section gen-hyprel rejects)',
      '',
    ];
    return { onlyLeft, onlyRight, changed, text: lines.join('\n') };
  });

  handle(addObject, async ({ objectUri }) => {
    let file: string;
    try {
      file = await requireFile(objectUri, 'addObject');
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    const report = await ws.reader.readObject(file);
    if (report.error) return { ok: false, error: report.error };
    if (report.object?.kind === 'unknown' || report.object?.kind === 'empty') return { ok: false, error: `${file}: ${objectKindProblem(report.object)}` };
    added.add(file);
    // The listing of its build directory (or the folder that now appears) changes.
    buildDirs = undefined;
    const dir = (await buildDirOf(file)) ?? path.dirname(file);
    listings.delete(dir);
    return { ok: true, buildUri: pathToUri(dir) };
  });

  return {
    invalidate(): void {
      generation++;
      buildDirs = undefined;
      listings.clear();
      stages.clear();
    },
  };
}
