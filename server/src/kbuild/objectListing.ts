// Which objects of a build the section explorer lists, and the listing cache: build directories of
// the workspace's kernel trees, pipeline objects by meaning (from the rules' findings) or by Kbuild's
// names (a bounded, cancellable walk), plus objects the user added. Knows no rule: stages and names
// come from the caller.
import { listNames, readdirSafe } from '../fs/safeRead';
import * as path from 'node:path';
import { findBuildDirectories, kernelRootOf } from './buildModel';
import { yieldToLoop } from '../common/async';

/** Most directory entries a name-based walk of one build tree looks at. */
const MAX_WALK_ENTRIES = 400_000;
export const OTHER_STAGE = 'other';

export interface StagedObject {
  file: string;
  stage: string;
  added?: boolean;
}

export interface BuildDir {
  dir: string;
  sourceRoot: string;
}

export interface ListingSources {
  roots(): string[];
  configuredBuildDir(): string | undefined;
  /** Kernel trees and build directories the analyses know of. */
  knownBuilds(): { kernelRoot?: string; buildDir?: string }[];
  /** Pipeline objects by meaning for a build directory, when an analysis knows them. */
  pipelineObjects(buildDir: string): StagedObject[] | undefined;
  /** The stage of an object by Kbuild's names, before any analysis. */
  stageByName(file: string): string | undefined;
  /** Directories (build-relative) where pipeline objects live by convention. */
  conventionalDirs(): string[];
}

/** Thrown when the build changed (invalidate()) while a listing was computed. */
export class BuildChanged extends Error {
  constructor() {
    super('the build changed');
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export class ObjectCatalog<L> {
  private generation = 0;
  private buildDirs: Promise<BuildDir[]> | undefined;
  private listings = new Map<string, Promise<L>>();
  /** Objects the user added, by path; kept across invalidate(). */
  readonly added = new Set<string>();
  /** Stage of every listed object (so a later request knows it without a re-walk). */
  readonly stages = new Map<string, string>();

  constructor(private readonly sources: ListingSources) {}

  invalidate(): void {
    this.generation++;
    this.buildDirs = undefined;
    this.listings.clear();
    this.stages.clear();
  }

  /** Throws BuildChanged when invalidate() ran since `gen`. */
  check(gen: number): void {
    if (gen !== this.generation) throw new BuildChanged();
  }

  getBuildDirs(): Promise<BuildDir[]> {
    this.buildDirs ??= this.computeBuildDirs();
    return this.buildDirs;
  }

  private async computeBuildDirs(): Promise<BuildDir[]> {
    const s = this.sources;
    const roots = new Set<string>();
    for (const r of s.roots()) {
      const k = await kernelRootOf(path.join(r, '.probe'));
      if (k) roots.add(k);
    }
    for (const b of s.knownBuilds()) if (b.kernelRoot) roots.add(b.kernelRoot);
    const out: BuildDir[] = [];
    const seen = new Set<string>();
    for (const root of roots) {
      for (const d of await findBuildDirectories(root, {
        configured: s.configuredBuildDir(),
        searchRoots: s.roots(),
      })) {
        if (seen.has(d)) continue;
        seen.add(d);
        out.push({ dir: d, sourceRoot: root });
      }
    }
    for (const b of s.knownBuilds()) {
      if (b.buildDir && !seen.has(b.buildDir)) {
        seen.add(b.buildDir);
        out.push({ dir: b.buildDir, sourceRoot: b.kernelRoot ?? '' });
      }
    }
    // Folders of added objects that no build directory holds.
    for (const f of this.added) {
      if (out.some((b) => isInside(f, b.dir))) continue;
      const d = path.dirname(f);
      if (!seen.has(d)) {
        seen.add(d);
        out.push({ dir: d, sourceRoot: '' });
      }
    }
    return out;
  }

  async buildDirOf(file: string): Promise<string | undefined> {
    const dirs = await this.getBuildDirs();
    return dirs.filter((b) => isInside(file, b.dir)).sort((a, b) => b.dir.length - a.dir.length)[0]?.dir;
  }

  /** The cached listing of a build directory, computed by `compute` (not kept when it fails). */
  listing(buildDir: string, compute: (gen: number) => Promise<L>): Promise<L> {
    let p = this.listings.get(buildDir);
    if (!p) {
      p = compute(this.generation);
      this.listings.set(buildDir, p);
      p.catch(() => {
        if (this.listings.get(buildDir) === p) this.listings.delete(buildDir);
      });
    }
    return p;
  }

  /** Adds a user-picked object; its build directory's listing is recomputed. Returns that directory. */
  async add(file: string): Promise<string> {
    this.added.add(file);
    this.buildDirs = undefined;
    const dir = (await this.buildDirOf(file)) ?? path.dirname(file);
    this.listings.delete(dir);
    return dir;
  }

  stageOf(file: string): string {
    return this.stages.get(file) ?? this.sources.stageByName(file) ?? OTHER_STAGE;
  }

  /**
   * The objects to list for a build directory, in stage order: pipeline objects (by meaning, else by
   * name), other objects beside them, and added objects.
   */
  async discover(buildDir: string, gen: number, stageOrder: (stage: string) => number): Promise<StagedObject[]> {
    let candidates = this.sources.pipelineObjects(buildDir);
    let others: string[] = [];
    if (!candidates) {
      const byName = await this.byName(buildDir, gen);
      candidates = byName.files;
      others = byName.others;
    } else {
      for (const d of new Set(candidates.map((c) => path.dirname(c.file)))) {
        const names = ((await listNames(d)) ?? []).filter((n) => n.endsWith('.o')).sort();
        for (const n of names) {
          const f = path.join(d, n);
          if (!candidates.some((c) => c.file === f)) others.push(f);
        }
      }
    }
    this.check(gen);
    const list: StagedObject[] = [...candidates].sort((a, b) => stageOrder(a.stage) - stageOrder(b.stage));
    for (const o of others) list.push({ file: o, stage: OTHER_STAGE });
    for (const f of this.added) {
      if (!isInside(f, buildDir) && path.dirname(f) !== buildDir) continue;
      const existing = list.find((c) => c.file === f);
      if (existing) existing.added = true;
      else list.push({ file: f, stage: this.sources.stageByName(f) ?? OTHER_STAGE, added: true });
    }
    return list;
  }

  /** Pipeline objects by Kbuild's names: the conventional directories when they exist, else a bounded walk. */
  private async byName(buildDir: string, gen: number): Promise<{ files: StagedObject[]; others: string[] }> {
    const files: StagedObject[] = [];
    const others: string[] = [];
    const conventional = this.sources.conventionalDirs().map((d) => path.join(buildDir, d));
    const scanDir = (dir: string, names: string[]): void => {
      for (const n of names) {
        if (!n.endsWith('.o')) continue;
        const f = path.join(dir, n);
        const stage = this.sources.stageByName(f);
        if (stage) files.push({ file: f, stage });
        else if (conventional.includes(dir)) others.push(f);
      }
    };
    let direct = false;
    for (const dir of conventional) {
      const names = await listNames(dir);
      if (!names) continue;
      direct = true;
      scanDir(dir, names.sort());
    }
    if (direct) return { files, others };
    // No conventional directory: walk the tree (no symlinks), bounded and cancellable.
    const queue = [buildDir];
    let seen = 0;
    for (let i = 0; i < queue.length && seen < MAX_WALK_ENTRIES; i++) {
      this.check(gen);
      const listing = await readdirSafe(queue[i]);
      if (!listing.ok) continue;
      const entries = listing.entries;
      seen += entries.length;
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const names: string[] = [];
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'source') queue.push(path.join(queue[i], e.name));
        else if (e.isFile()) names.push(e.name);
      }
      scanDir(queue[i], names);
      if (i % 32 === 0) await yieldToLoop();
    }
    return { files, others };
  }
}
