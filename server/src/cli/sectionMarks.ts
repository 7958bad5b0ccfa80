// What `sections` marks in an object of a kernel build, the way the section explorer does: the rules
// analyze the make file of the object's directory (Kbuild, else Makefile, in the build's source tree)
// against that build; the links they find that consume the object place its sections
// (features/linkDestinations.ts, the script the next build links with); then each rule's
// `explorer.classify` marks them (an orphan of a link with --orphan-handling=error is offending, one
// of a warn link a warning, each with the link that refuses it). Knows no rule.
import * as path from 'node:path';
import { AnalysisCache, analyzeFile, type FileAnalysis } from '../analysis';
import { readRegularText } from '../fs/safeRead';
import { BuildReader } from '../kbuild/buildModel';
import { buildOfFile } from '../kbuild/buildOfFile';
import type { BuildLink } from '../kbuild/linkPlacement';
import { MAX_MAKEFILE_BYTES, type SectionDestination } from '../lspExt';
import type { Rule, SectionMarks } from '../rules/rule';
import { LinkDestinations } from '../features/linkDestinations';
import { destinationsOf } from '../features/sectionWire';

export interface ObjectMarks {
  /** The object's path relative to its build directory. */
  buildPath: string;
  buildDir: string;
  marks: SectionMarks;
  /** The links of the build that consume the object (with their --orphan-handling). */
  links: BuildLink[];
  destinations(index: number): SectionDestination[];
  /** What could not be read or evaluated in full while finding the links. */
  incomplete: string[];
}

/** Marks for objects of kernel builds; each directory's make file is analyzed once per run. */
export class BuildSectionMarks {
  private readonly reader = new BuildReader();
  private readonly cache = new AnalysisCache();
  private readonly analyses = new Map<string, FileAnalysis>();
  private readonly links = new LinkDestinations({ analyses: this.analyses });

  constructor(
    private readonly rules: readonly Rule[],
    private readonly docsDir: string,
  ) {}

  /** The make file of `objDir` in the tree (Kbuild reads `Kbuild` when there is one), analyzed once. */
  private async analyzeDir(sourceRoot: string, buildDir: string, objDir: string): Promise<FileAnalysis | undefined> {
    for (const name of ['Kbuild', 'Makefile']) {
      const file = path.join(sourceRoot, objDir, name);
      const known = this.analyses.get(file);
      if (known) return known;
      const read = await readRegularText(file, { maxBytes: MAX_MAKEFILE_BYTES });
      if (!read.ok) continue;
      const a = await analyzeFile(file, read.text, {
        rules: this.rules,
        docsDir: this.docsDir,
        reader: this.reader,
        cache: this.cache,
        buildDirectory: buildDir,
      });
      this.analyses.set(file, a);
      return a;
    }
    return undefined;
  }

  /** The marks of an object, when it lies in a kernel build directory (`build`, when already found). */
  async of(file: string, known?: { buildDir: string; sourceRoot: string }): Promise<ObjectMarks | undefined> {
    const build = known ?? (await buildOfFile(file));
    if (!build) return undefined;
    const buildPath = path.relative(build.buildDir, path.resolve(file));
    const analysis = await this.analyzeDir(build.sourceRoot, build.buildDir, path.dirname(buildPath));
    const report = await this.reader.readObject(path.resolve(file));
    const marks: SectionMarks = { sections: new Map(), warnings: new Map() };
    const empty = { buildPath, buildDir: build.buildDir, marks, links: [], destinations: () => [], incomplete: [] };
    if (report.object?.kind !== 'elf') return empty;
    const consumed = analysis?.buildDir ? this.links.place(analysis.buildDir, buildPath, report.object.elf) : undefined;
    if (!consumed) return { ...empty, incomplete: analysis?.incomplete ?? [] };
    const pipelineStage = [...(analysis?.findings.values() ?? [])]
      .flatMap((f) => f.objects)
      .find((o) => o.path === buildPath)?.stage;
    for (const r of this.rules) {
      const e = r.explorer;
      if (!e) continue;
      const m = await e.classify(report, this.reader, pipelineStage ?? e.stageByName(file), buildPath, consumed.placed);
      for (const [i, why] of m.sections) if (!marks.sections.has(i)) marks.sections.set(i, why);
      for (const [i, why] of m.warnings ?? []) if (!marks.warnings?.has(i)) marks.warnings?.set(i, why);
      marks.objectProblem ??= m.objectProblem;
    }
    return {
      buildPath,
      buildDir: build.buildDir,
      marks,
      links: consumed.placed.map((p) => p.link),
      destinations: (index) => destinationsOf(index, consumed.placed, consumed.unreadable),
      incomplete: analysis?.incomplete ?? [],
    };
  }
}
