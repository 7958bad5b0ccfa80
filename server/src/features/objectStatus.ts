// The section explorer's object status: the stages the rules define, each object's marks (every
// rule's `explorer.classify`, with the object's sections placed in the links that consume it), and
// the listing of a build directory with each object's status (lspExt's ObjectInfo).
//
// Lazy and bounded: listing objects stats them and reads at most the ELF header and section header
// table of the first MAX_STATUS_READS (through the workspace's BuildReader, cached by size and mtime).
import * as path from 'node:path';
import type { ObjectReport } from '../kbuild/buildModel';
import { OTHER_STAGE, type ObjectCatalog, type StagedObject } from '../kbuild/objectListing';
import { statOrUndefined, type FileStats } from '../fs/safeRead';
import type { ObjectInfo, ObjectStatus } from '../lspExt';
import type { ExplorerSupport, SectionMarks, StageDef } from '../rules/rule';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { yieldToLoop } from '../common/async';
import { LinkDestinations, NO_LINKS, type ObjectLinks } from './linkDestinations';
import { objectKindProblem } from './sectionWire';

/** Most objects one listing returns (the rest are counted in `truncated`). */
const MAX_LISTED_OBJECTS = 2000;
/** Most objects whose headers one listing reads for their status; the rest are 'unknown' until expanded. */
const MAX_STATUS_READS = 256;

export interface Listing {
  objects: ObjectInfo[];
  truncated: number;
}

export class ObjectStatusReader {
  readonly explorers: ExplorerSupport[];
  private readonly stageDefs = new Map<string, StageDef>();
  private readonly stageIds: string[];
  readonly links: LinkDestinations;

  constructor(private readonly ws: Workspace) {
    this.explorers = ws.rules.flatMap((r) => (r.explorer ? [r.explorer] : []));
    for (const e of this.explorers)
      for (const s of e.stages) if (!this.stageDefs.has(s.id)) this.stageDefs.set(s.id, s);
    this.stageIds = [...this.stageDefs.keys()];
    this.links = new LinkDestinations(ws);
  }

  stageOrder(stage: string): number {
    return this.stageDefs.has(stage) ? this.stageIds.indexOf(stage) : this.stageIds.length;
  }

  stageByName(file: string): string | undefined {
    for (const e of this.explorers) {
      const s = e.stageByName(file);
      if (s) return s;
    }
    return undefined;
  }

  /** The links that consume the object at `file` of `buildDir`, its sections placed. */
  objectLinks(report: ObjectReport, buildDir: string | undefined, file: string): ObjectLinks {
    if (!buildDir || report.object?.kind !== 'elf') return NO_LINKS;
    return this.links.place(buildDir, path.relative(buildDir, file), report.object.elf);
  }

  /** Every rule's marks for an object; the first rule that marks a section names the reason. */
  async marksOf(
    report: ObjectReport,
    stage: string | undefined,
    buildPath: string | undefined,
    links: ObjectLinks,
  ): Promise<SectionMarks> {
    const out: SectionMarks = { sections: new Map(), warnings: new Map() };
    if (report.object?.kind !== 'elf') return out;
    const inPipeline = stage === OTHER_STAGE ? undefined : stage;
    for (const e of this.explorers) {
      const m = await e.classify(report, this.ws.reader, inPipeline, buildPath, links.placed);
      for (const [i, why] of m.sections) if (!out.sections.has(i)) out.sections.set(i, why);
      for (const [i, why] of m.warnings ?? []) if (!out.warnings?.has(i)) out.warnings?.set(i, why);
      out.objectProblem ??= m.objectProblem;
    }
    return out;
  }

  private baseInfo(buildDir: string, c: StagedObject): ObjectInfo {
    const def = this.stageDefs.get(c.stage);
    const linkedInto = this.links.consumersOf(buildDir, path.relative(buildDir, c.file));
    return {
      uri: pathToUri(c.file),
      relativePath: path.relative(buildDir, c.file) || path.basename(c.file),
      stage: c.stage,
      stageLabel: def?.label ?? '',
      stageShort: def?.short ?? '',
      ...(def?.next ? { nextStage: def.next } : {}),
      status: 'unknown',
      ...(c.added ? { added: true } : {}),
      ...(linkedInto.length > 0 ? { linkedInto } : {}),
    };
  }

  /** What the explorer shows for one object; its headers are read only when `readStatus`. */
  async describe(
    buildDir: string,
    c: StagedObject,
    st: FileStats | undefined,
    readStatus: boolean,
  ): Promise<ObjectInfo> {
    const info = this.baseInfo(buildDir, c);
    if (!st) return { ...info, status: 'error', problem: 'file not found' };
    info.size = st.size;
    if (!readStatus) return info;
    const report = await this.ws.reader.readObject(c.file);
    let status: ObjectStatus = 'ok';
    let problem: string | undefined;
    if (report.error) [status, problem] = ['error', report.error];
    else if (report.object?.kind !== 'elf') [status, problem] = ['not-elf', objectKindProblem(report.object)];
    else {
      const links = this.objectLinks(report, buildDir, c.file);
      const marks = await this.marksOf(report, c.stage, path.relative(buildDir, c.file), links);
      info.sectionCount = report.object.elf.sections.length;
      info.offendingCount = marks.sections.size;
      if (marks.warnings && marks.warnings.size > 0) info.warningCount = marks.warnings.size;
      if (marks.objectProblem) info.objectProblem = marks.objectProblem;
      if (marks.sections.size > 0 || marks.objectProblem)
        [status, problem] = ['offending', marks.sections.values().next().value ?? marks.objectProblem];
    }
    info.status = status;
    if (problem) info.problem = problem;
    return info;
  }

  /** The objects of a build directory with their status (pipeline stages first). */
  async listing(catalog: ObjectCatalog<Listing>, buildDir: string, gen: number): Promise<Listing> {
    const list = await catalog.discover(buildDir, gen, (s) => this.stageOrder(s));
    const shown = list.slice(0, MAX_LISTED_OBJECTS);
    const objects: ObjectInfo[] = new Array<ObjectInfo>(shown.length);
    // Stat everything shown (cheap); read headers of the first MAX_STATUS_READS, pipeline stages first.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < shown.length) {
        const i = next++;
        const c = shown[i];
        objects[i] = await this.describe(buildDir, c, await statOrUndefined(c.file), i < MAX_STATUS_READS);
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
}
