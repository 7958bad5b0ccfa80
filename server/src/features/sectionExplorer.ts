// The section explorer's requests: build directories of the workspace's kernel trees, the objects
// that matter in each (the stages of the pipelines the rules follow, plus objects the user added),
// the sections of one object with the ones a rule says break the build marked, the llvm-readelf
// section table, and a comparison of two objects. Discovery and the listing cache live in
// kbuild/objectListing.ts; stages and section marks come from the rules.
//
// Lazy and bounded: listing objects stats them and reads at most the ELF header and section header
// table of the first MAX_STATUS_READS (through the workspace's BuildReader, cached by size and mtime).
import * as path from 'node:path';
import { ResponseError, LSPErrorCodes } from 'vscode-languageserver';
import type { ObjectReport } from '../kbuild/buildModel';
import { BuildChanged, ObjectCatalog, OTHER_STAGE, type StagedObject } from '../kbuild/objectListing';
import { compareSections } from '../elf/compare';
import { formatAllRelocations, formatSectionTable, hexNoPrefix } from '../elf/format';
import { readObject } from '../elf/reader';
import { openFileSource } from '../elf/source';
import { statSafe, typeName, type FileStats } from '../fs/safeRead';
import type { ElfSection, ObjectKind } from '../elf/types';
import {
  addObject,
  compareObjects,
  listBuildDirectories,
  listObjects,
  listSections,
  sectionTable,
  SECTION_PAGE,
  type BuildDirectoryInfo,
  type ObjectInfo,
  type ObjectStatus,
  type SectionInfo,
} from '../lspExt';
import type { SectionMarks, StageDef } from '../rules/rule';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { onRequest, orCancel, StaleResult } from './requests';
import { errorText } from '../common/errors';
import { yieldToLoop } from '../common/async';

/** Most objects one listing returns (the rest are counted in `truncated`). */
const MAX_LISTED_OBJECTS = 2000;
/** Most objects whose headers one listing reads for their status; the rest are 'unknown' until expanded. */
const MAX_STATUS_READS = 256;
/** How long listBuildDirectories waits for object counts before answering without them. */
const COUNT_BUDGET_MS = 300;
/** Largest section table / relocation text handed to the client. */
const MAX_TABLE_CHARS = 8 * 1024 * 1024;

interface Listing {
  objects: ObjectInfo[];
  truncated: number;
}

async function statOrUndefined(p: string): Promise<FileStats | undefined> {
  const st = await statSafe(p);
  return st.ok ? st.stat : undefined;
}

/** .debug_*, .zdebug_*, DWARF-ish and their relocation sections. */
function isDebugSection(name: string): boolean {
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

function pathOfUri(uri: string, what: string): string {
  const p = uriToPath(uri);
  if (!p) throw new ResponseError(LSPErrorCodes.RequestFailed, `${what}: not a file URI: ${uri}`);
  return p;
}

export function registerSectionExplorer(ws: Workspace): { invalidate(): void } {
  const explorers = ws.rules.flatMap((r) => (r.explorer ? [r.explorer] : []));
  const stageDefs = new Map<string, StageDef>();
  for (const e of explorers) for (const s of e.stages) if (!stageDefs.has(s.id)) stageDefs.set(s.id, s);
  const stageIds = [...stageDefs.keys()];
  const stageOrder = (stage: string): number => (stageDefs.has(stage) ? stageIds.indexOf(stage) : stageIds.length);
  const stageByName = (file: string): string | undefined => {
    for (const e of explorers) {
      const s = e.stageByName(file);
      if (s) return s;
    }
    return undefined;
  };

  const catalog = new ObjectCatalog<Listing>({
    roots: () => ws.roots,
    configuredBuildDir: () => ws.settings.buildDirectory || undefined,
    knownBuilds: () => [...ws.analyses.values()].filter((a) => a.findings.size > 0),
    pipelineObjects: (buildDir) => {
      for (const a of ws.analyses.values()) {
        if (a.buildDir !== buildDir) continue;
        const objects: StagedObject[] = [];
        for (const f of a.findings.values()) {
          for (const o of f.objects) {
            const file = path.join(buildDir, o.path);
            if (!objects.some((x) => x.file === file)) objects.push({ file, stage: o.stage });
          }
        }
        if (objects.length > 0) return objects;
      }
      return undefined;
    },
    stageByName,
    conventionalDirs: () => explorers.flatMap((e) => e.conventionalDirs),
  });

  /** Every rule's marks for an object; the first rule that marks a section names the reason. */
  async function marksOf(
    report: ObjectReport,
    stage: string | undefined,
    buildPath: string | undefined,
  ): Promise<SectionMarks> {
    const out: SectionMarks = { sections: new Map() };
    if (report.object?.kind !== 'elf') return out;
    for (const e of explorers) {
      const m = await e.classify(report, ws.reader, stage, buildPath);
      for (const [i, why] of m.sections) if (!out.sections.has(i)) out.sections.set(i, why);
      out.objectProblem ??= m.objectProblem;
    }
    return out;
  }

  async function objectInfo(
    buildDir: string,
    c: StagedObject,
    st: FileStats | undefined,
    readStatus: boolean,
  ): Promise<ObjectInfo> {
    const def = stageDefs.get(c.stage);
    const info: ObjectInfo = {
      uri: pathToUri(c.file),
      relativePath: path.relative(buildDir, c.file) || path.basename(c.file),
      stage: c.stage,
      stageLabel: def?.label ?? '',
      stageShort: def?.short ?? '',
      ...(def?.next ? { nextStage: def.next } : {}),
      status: 'unknown',
      ...(c.added ? { added: true } : {}),
    };
    if (!st) return { ...info, status: 'error', problem: 'file not found' };
    info.size = st.size;
    if (!readStatus) return info;
    const report = await ws.reader.readObject(c.file);
    let status: ObjectStatus = 'ok';
    let problem: string | undefined;
    if (report.error) [status, problem] = ['error', report.error];
    else if (report.object?.kind !== 'elf') [status, problem] = ['not-elf', objectKindProblem(report.object)];
    else {
      const marks = await marksOf(
        report,
        c.stage === OTHER_STAGE ? undefined : c.stage,
        path.relative(buildDir, c.file),
      );
      info.sectionCount = report.object.elf.sections.length;
      info.offendingCount = marks.sections.size;
      if (marks.objectProblem) info.objectProblem = marks.objectProblem;
      if (marks.sections.size > 0 || marks.objectProblem)
        [status, problem] = ['offending', marks.sections.values().next().value ?? marks.objectProblem];
    }
    info.status = status;
    if (problem) info.problem = problem;
    return info;
  }

  async function computeListing(buildDir: string, gen: number): Promise<Listing> {
    const list = await catalog.discover(buildDir, gen, stageOrder);
    const shown = list.slice(0, MAX_LISTED_OBJECTS);
    const objects: ObjectInfo[] = new Array<ObjectInfo>(shown.length);
    // Stat everything shown (cheap); read headers of the first MAX_STATUS_READS, pipeline stages first.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < shown.length) {
        const i = next++;
        const c = shown[i];
        objects[i] = await objectInfo(buildDir, c, await statOrUndefined(c.file), i < MAX_STATUS_READS);
        if (i % 64 === 0) {
          catalog.check(gen);
          await yieldToLoop();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    catalog.check(gen);
    // Stages listed by name or meaning but not built (yet) are left out; added ones stay, marked.
    const present = objects.filter((o, i) => o.problem !== 'file not found' || shown[i].added);
    for (const o of present) catalog.stages.set(uriToPath(o.uri) ?? '', o.stage);
    return { objects: present, truncated: list.length - shown.length };
  }

  const getListing = (buildDir: string): Promise<Listing> =>
    catalog.listing(buildDir, (gen) =>
      computeListing(buildDir, gen).catch((e: unknown) => {
        throw e instanceof BuildChanged ? new StaleResult() : e;
      }),
    );

  async function requireFile(uri: string, what: string): Promise<string> {
    const file = pathOfUri(uri, what);
    const st = await statOrUndefined(file);
    if (!st) throw new ResponseError(LSPErrorCodes.RequestFailed, `${what}: ${file}: no such file`);
    if (!st.isFile())
      throw new ResponseError(
        LSPErrorCodes.RequestFailed,
        `${what}: ${file}: is ${typeName(st)}, not a regular file; not read`,
      );
    return file;
  }

  onRequest(ws.connection, listBuildDirectories, async (_params, token) => {
    const dirs = await orCancel(catalog.getBuildDirs(), token);
    const builds: BuildDirectoryInfo[] = [];
    for (const b of dirs) {
      const info: BuildDirectoryInfo = {
        uri: pathToUri(b.dir),
        sourceUri: b.sourceRoot ? pathToUri(b.sourceRoot) : '',
      };
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), COUNT_BUDGET_MS);
      });
      const done = await orCancel(Promise.race([getListing(b.dir).catch(() => undefined), budget]), token).finally(() =>
        clearTimeout(timer),
      );
      if (done) {
        info.objectCount = done.objects.length + done.truncated;
        info.offending = done.objects.some((o) => o.status === 'offending');
      }
      builds.push(info);
    }
    return { builds };
  });

  onRequest(ws.connection, listObjects, async ({ buildUri }, token) => {
    const dir = pathOfUri(buildUri, 'listObjects');
    const st = await statOrUndefined(dir);
    if (!st?.isDirectory())
      throw new ResponseError(LSPErrorCodes.RequestFailed, `listObjects: ${dir}: no such directory`);
    const l = await orCancel(getListing(path.resolve(dir)), token);
    return l.truncated > 0 ? { objects: l.objects, truncated: l.truncated } : { objects: l.objects };
  });

  onRequest(ws.connection, listSections, async ({ objectUri, offset, limit, only }) => {
    const file = await requireFile(objectUri, 'listSections');
    const stage = catalog.stageOf(file);
    const buildDir = (await catalog.buildDirOf(file)) ?? path.dirname(file);
    const report = await ws.reader.readObject(file);
    const object = await objectInfo(
      buildDir,
      { file, stage, added: catalog.added.has(file) },
      await statOrUndefined(file),
      true,
    );
    if (report.error) return { sections: [], total: 0, error: report.error, object };
    if (report.object?.kind !== 'elf')
      return { sections: [], total: 0, error: objectKindProblem(report.object), object };
    const marks = await marksOf(report, stage === OTHER_STAGE ? undefined : stage, path.relative(buildDir, file));
    // One page at a time: a vmlinux.o-sized object is never sent whole.
    const from =
      only === 'offending'
        ? report.object.elf.sections.filter((s) => marks.sections.has(s.index))
        : report.object.elf.sections;
    const start = Math.max(0, Math.floor(offset ?? 0));
    const page = from.slice(start, start + Math.max(1, Math.min(Math.floor(limit ?? SECTION_PAGE), SECTION_PAGE * 10)));
    return { sections: page.map((s) => toSectionInfo(s, marks.sections.get(s.index))), total: from.length, object };
  });

  onRequest(ws.connection, sectionTable, async ({ objectUri, relocations }) => {
    const file = await requireFile(objectUri, 'sectionTable');
    const src = await openFileSource(file);
    try {
      const obj = await readObject(src);
      if (obj.kind !== 'elf') return { text: `${file}: ${objectKindProblem(obj) ?? obj.kind}\n` };
      let text = formatSectionTable(obj.elf, file);
      if (relocations) {
        const parts: string[] = [];
        let size = 0;
        const stop = new Error('cut');
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

  onRequest(ws.connection, compareObjects, async ({ leftUri, rightUri }) => {
    const left = await requireFile(leftUri, 'compareObjects');
    const right = await requireFile(rightUri, 'compareObjects');
    const [l, r] = await Promise.all([ws.reader.readObject(left), ws.reader.readObject(right)]);
    for (const [f, rep] of [
      [left, l],
      [right, r],
    ] as const) {
      if (rep.error) throw new ResponseError(LSPErrorCodes.RequestFailed, `compareObjects: ${f}: ${rep.error}`);
      if (rep.object?.kind !== 'elf')
        throw new ResponseError(LSPErrorCodes.RequestFailed, `compareObjects: ${f}: ${objectKindProblem(rep.object)}`);
    }
    if (l.object?.kind !== 'elf' || r.object?.kind !== 'elf')
      throw new ResponseError(LSPErrorCodes.RequestFailed, 'compareObjects: not ELF');
    const stageOf = (f: string) => {
      const s = catalog.stageOf(f);
      return s === OTHER_STAGE ? undefined : s;
    };
    const [ml, mr] = await Promise.all([marksOf(l, stageOf(left), undefined), marksOf(r, stageOf(right), undefined)]);
    return compareSections(
      { file: left, elf: l.object.elf },
      { file: right, elf: r.object.elf },
      (side, s) => (side === 'left' ? ml : mr).sections.has(s.index),
      'breaks the build a rule follows (see the section list for why)',
    );
  });

  onRequest(ws.connection, addObject, async ({ objectUri }) => {
    let file: string;
    try {
      file = await requireFile(objectUri, 'addObject');
    } catch (e) {
      return { ok: false, error: errorText(e) };
    }
    const report = await ws.reader.readObject(file);
    if (report.error) return { ok: false, error: report.error };
    if (report.object?.kind === 'unknown' || report.object?.kind === 'empty')
      return { ok: false, error: `${file}: ${objectKindProblem(report.object)}` };
    return { ok: true, buildUri: pathToUri(await catalog.add(file)) };
  });

  return { invalidate: () => catalog.invalidate() };
}
