// The section explorer's requests, each bound to a short named handler: build directories of the
// workspace's kernel trees, the objects that matter in each (the stages of the pipelines the rules
// follow, plus objects the user added), the sections of one object with the ones a rule says break
// the build marked and their destinations in the links that consume the object, the llvm-readelf
// section table, and a comparison of two objects. Discovery and the listing cache: kbuild/objectListing.ts;
// object status and marks: objectStatus.ts; links and destinations: linkDestinations.ts; the wire
// form of sections: sectionWire.ts.
import * as path from 'node:path';
import { ResponseError, LSPErrorCodes, type CancellationToken } from 'vscode-languageserver';
import { BuildChanged, ObjectCatalog } from '../kbuild/objectListing';
import { compareSections } from '../elf/compare';
import { readObject } from '../elf/reader';
import { openFileSource } from '../elf/source';
import { statOrUndefined, typeName } from '../fs/safeRead';
import {
  addObject,
  compareObjects,
  listBuildDirectories,
  listObjects,
  listSections,
  sectionTable,
  SECTION_PAGE,
  type BuildDirectoryInfo,
  type RequestDef,
} from '../lspExt';
import { pathToUri, uriToPath, type Workspace } from '../workspace';
import { onRequest, orCancel, StaleResult } from './requests';
import { errorText } from '../common/errors';
import { ObjectStatusReader, type Listing } from './objectStatus';
import { destinationsOf, objectKindProblem, sectionTableText, toSectionInfo } from './sectionWire';
import type { ObjectReport } from '../kbuild/buildModel';

/** How long listBuildDirectories waits for object counts before answering without them. */
const COUNT_BUDGET_MS = 300;

type Params<D> = D extends RequestDef<infer P, unknown> ? P : never;
type Result<D> = D extends RequestDef<unknown, infer R> ? R : never;

function failed(message: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestFailed, message);
}

function pathOfUri(uri: string, what: string): string {
  const p = uriToPath(uri);
  if (!p) throw failed(`${what}: not a file URI: ${uri}`);
  return p;
}

/** A regular file named by `uri`, or the LSP error that says why not. */
async function requireFile(uri: string, what: string): Promise<string> {
  const file = pathOfUri(uri, what);
  const st = await statOrUndefined(file);
  if (!st) throw failed(`${what}: ${file}: no such file`);
  if (!st.isFile()) throw failed(`${what}: ${file}: is ${typeName(st)}, not a regular file; not read`);
  return file;
}

/** The ELF object of a report, or the LSP error that says why it is none. */
function requireElf(report: ObjectReport, file: string, what: string): void {
  if (report.error) throw failed(`${what}: ${file}: ${report.error}`);
  if (report.object?.kind !== 'elf') throw failed(`${what}: ${file}: ${objectKindProblem(report.object)}`);
}

/** Resolves with `p`, or with undefined once `ms` have passed. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, budget]).finally(() => clearTimeout(timer));
}

class SectionExplorer {
  readonly status: ObjectStatusReader;
  readonly catalog: ObjectCatalog<Listing>;

  constructor(private readonly ws: Workspace) {
    this.status = new ObjectStatusReader(ws);
    this.catalog = new ObjectCatalog<Listing>({
      roots: () => ws.roots,
      configuredBuildDir: () => ws.settings.buildDirectory || undefined,
      knownBuilds: () => [...ws.analyses.values()].filter((a) => a.findings.size > 0),
      pipelineObjects: (buildDir) => this.pipelineObjects(buildDir),
      stageByName: (file) => this.status.stageByName(file),
      conventionalDirs: () => this.status.explorers.flatMap((e) => e.conventionalDirs),
    });
  }

  invalidate(): void {
    this.catalog.invalidate();
    this.status.links.invalidate();
  }

  /** The pipeline objects the analyses of `buildDir` name, the first stage given to an object winning. */
  private pipelineObjects(buildDir: string): { file: string; stage: string }[] | undefined {
    const objects: { file: string; stage: string }[] = [];
    for (const a of this.ws.analyses.values()) {
      if (a.buildDir !== buildDir) continue;
      for (const f of a.findings.values()) {
        for (const o of f.objects) {
          const file = path.join(buildDir, o.path);
          if (!objects.some((x) => x.file === file)) objects.push({ file, stage: o.stage });
        }
      }
    }
    return objects.length > 0 ? objects : undefined;
  }

  private listing(buildDir: string): Promise<Listing> {
    return this.catalog.listing(buildDir, (gen) =>
      this.status.listing(this.catalog, buildDir, gen).catch((e: unknown) => {
        throw e instanceof BuildChanged ? new StaleResult() : e;
      }),
    );
  }

  async onListBuildDirectories(
    _params: Params<typeof listBuildDirectories>,
    token: CancellationToken,
  ): Promise<Result<typeof listBuildDirectories>> {
    const builds: BuildDirectoryInfo[] = [];
    for (const b of await orCancel(this.catalog.getBuildDirs(), token)) {
      const info: BuildDirectoryInfo = {
        uri: pathToUri(b.dir),
        sourceUri: b.sourceRoot ? pathToUri(b.sourceRoot) : '',
      };
      const done = await orCancel(
        within(
          this.listing(b.dir).catch(() => undefined),
          COUNT_BUDGET_MS,
        ),
        token,
      );
      if (done) {
        info.objectCount = done.objects.length + done.truncated;
        info.offending = done.objects.some((o) => o.status === 'offending');
      }
      builds.push(info);
    }
    return { builds };
  }

  async onListObjects(
    { buildUri }: Params<typeof listObjects>,
    token: CancellationToken,
  ): Promise<Result<typeof listObjects>> {
    const dir = pathOfUri(buildUri, 'listObjects');
    if (!(await statOrUndefined(dir))?.isDirectory()) throw failed(`listObjects: ${dir}: no such directory`);
    const l = await orCancel(this.listing(path.resolve(dir)), token);
    return l.truncated > 0 ? { objects: l.objects, truncated: l.truncated } : { objects: l.objects };
  }

  async onListSections({
    objectUri,
    offset,
    limit,
    only,
  }: Params<typeof listSections>): Promise<Result<typeof listSections>> {
    const file = await requireFile(objectUri, 'listSections');
    const stage = this.catalog.stageOf(file);
    const buildDir = (await this.catalog.buildDirOf(file)) ?? path.dirname(file);
    const report = await this.ws.reader.readObject(file);
    const staged = { file, stage, added: this.catalog.added.has(file) };
    const object = await this.status.describe(buildDir, staged, await statOrUndefined(file), true);
    if (report.error) return { sections: [], total: 0, error: report.error, object };
    if (report.object?.kind !== 'elf')
      return { sections: [], total: 0, error: objectKindProblem(report.object), object };
    const links = this.status.objectLinks(report, buildDir, file);
    const marks = await this.status.marksOf(report, stage, path.relative(buildDir, file), links);
    // One page at a time: a vmlinux.o-sized object is never sent whole.
    const all = report.object.elf.sections;
    const from = only === 'offending' ? all.filter((s) => marks.sections.has(s.index)) : all;
    const start = Math.max(0, Math.floor(offset ?? 0));
    const size = Math.max(1, Math.min(Math.floor(limit ?? SECTION_PAGE), SECTION_PAGE * 10));
    const sections = from
      .slice(start, start + size)
      .map((s) => toSectionInfo(s, marks, destinationsOf(s.index, links.placed, links.unreadable)));
    return { sections, total: from.length, object };
  }

  async onSectionTable({ objectUri, relocations }: Params<typeof sectionTable>): Promise<Result<typeof sectionTable>> {
    const file = await requireFile(objectUri, 'sectionTable');
    const src = await openFileSource(file);
    try {
      const obj = await readObject(src);
      if (obj.kind !== 'elf') return { text: `${file}: ${objectKindProblem(obj) ?? obj.kind}\n` };
      return { text: await sectionTableText(src, obj.elf, file, relocations) };
    } finally {
      await src.close();
    }
  }

  /** The marks of one side of a comparison (in its build directory's links, when it has one). */
  private async marksForCompare(file: string, report: ObjectReport) {
    const buildDir = await this.catalog.buildDirOf(file);
    const links = this.status.objectLinks(report, buildDir, file);
    return this.status.marksOf(report, this.catalog.stageOf(file), undefined, links);
  }

  async onCompareObjects({ leftUri, rightUri }: Params<typeof compareObjects>): Promise<Result<typeof compareObjects>> {
    const left = await requireFile(leftUri, 'compareObjects');
    const right = await requireFile(rightUri, 'compareObjects');
    const [l, r] = await Promise.all([this.ws.reader.readObject(left), this.ws.reader.readObject(right)]);
    requireElf(l, left, 'compareObjects');
    requireElf(r, right, 'compareObjects');
    if (l.object?.kind !== 'elf' || r.object?.kind !== 'elf') throw failed('compareObjects: not ELF');
    const [ml, mr] = await Promise.all([this.marksForCompare(left, l), this.marksForCompare(right, r)]);
    return compareSections(
      { file: left, elf: l.object.elf },
      { file: right, elf: r.object.elf },
      (side, s) => (side === 'left' ? ml : mr).sections.has(s.index),
      'breaks the build a rule follows (see the section list for why)',
    );
  }

  async onAddObject({ objectUri }: Params<typeof addObject>): Promise<Result<typeof addObject>> {
    let file: string;
    try {
      file = await requireFile(objectUri, 'addObject');
    } catch (e) {
      return { ok: false, error: errorText(e) };
    }
    const report = await this.ws.reader.readObject(file);
    if (report.error) return { ok: false, error: report.error };
    if (report.object?.kind === 'unknown' || report.object?.kind === 'empty')
      return { ok: false, error: `${file}: ${objectKindProblem(report.object)}` };
    return { ok: true, buildUri: pathToUri(await this.catalog.add(file)) };
  }
}

/** Binds each explorer request to its handler; `invalidate` drops what was read of the build. */
export function registerSectionExplorer(ws: Workspace): { invalidate(): void } {
  const explorer = new SectionExplorer(ws);
  const c = ws.connection;
  onRequest(c, listBuildDirectories, (p, token) => explorer.onListBuildDirectories(p, token));
  onRequest(c, listObjects, (p, token) => explorer.onListObjects(p, token));
  onRequest(c, listSections, (p) => explorer.onListSections(p));
  onRequest(c, sectionTable, (p) => explorer.onSectionTable(p));
  onRequest(c, compareObjects, (p) => explorer.onCompareObjects(p));
  onRequest(c, addObject, (p) => explorer.onAddObject(p));
  return { invalidate: () => explorer.invalidate() };
}
