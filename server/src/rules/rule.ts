// What a rule is: one unit (a folder under rules/) with its analysis, diagnostics, fixes, patch text,
// explanation and, when it follows objects through a build, its pipeline stages and section marks.
// The generic layers (workspace, features, CLI, explorer) see rules only through this interface and
// the registry list; they never name a rule.
import type { Diagnostic } from 'vscode-languageserver';
import { SERVER_NAME } from '../lspExt';
import type { Makefile, Span } from '../make/ast';
import type { FixResult } from '../make/edits';
import type { BuildReader, ObjectReport } from '../kbuild/buildModel';
import type { ElfFile, ElfSection } from '../elf/types';
import type { Surroundings } from '../kbuild/includes';
import type { KbuildTree } from '../kbuild/kbuildTree';
import type { BuildLink } from '../kbuild/linkPlacement';
import type { Placement } from '../lds/placement';

export type { BuildLink } from '../kbuild/linkPlacement';

/** A make file and what surrounds it in its kernel tree. */
export interface MakefileContext {
  /** Absolute path. */
  file: string;
  text: string;
  makefile: Makefile;
  /** The kernel tree that holds the file (the directory with scripts/Kbuild.include). */
  kernelRoot?: string;
  /** The file's directory relative to the kernel tree: Kbuild's `$(obj)` ('.' when unknown). */
  objDir: string;
  /** Reads a file beside the Makefile by name (bounded); undefined when absent or unreadable. */
  readSibling(name: string): string | undefined;
  /** The tree's own Kbuild (scripts/Makefile.lib, configuration); absent when the tree has none. */
  tree?: KbuildTree;
  /** The build directory (O=) the context was made for, when known. */
  buildDir?: string;
  /** When another make file includes this one: what make reads around it there. */
  surroundings?: Surroundings;
}

/** A build directory the rule may read evidence from, with lookups remembered until it changes. */
export interface BuildAccess {
  buildDir: string;
  reader: BuildReader;
  memo<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

/** URIs the rule needs to write diagnostics (related locations, the explanation link). */
export interface Links {
  makefileUri: string;
  docUri: string;
  fileUri(absolutePath: string): string;
}

/** A rule's diagnostic: the server as its source, its code linked to the rule's explanation. */
export function ruleDiagnostic(
  links: Links,
  code: string,
  d: Omit<Diagnostic, 'source' | 'code' | 'codeDescription'>,
): Diagnostic {
  return { ...d, source: SERVER_NAME, code, codeDescription: { href: links.docUri } };
}

/** An object of the pipeline a rule follows, relative to the build directory. */
export interface PipelineObject {
  path: string;
  stage: string;
}

/**
 * A line the build prints that a finding explains: what a problem matcher shows from the build log
 * (`$kbuild-objects` in package.json), on the same file. The generic layers publish the finding's
 * diagnosis there too, so the build's line and the diagnosis are one entry apart in Problems.
 */
export interface BuildOutputLine {
  /** Absolute path of the file the line names (an object in the build directory). */
  file: string;
  /** The line's text after the tool's `error: ` or `warning: ` (what the matcher shows as the message). */
  text: string;
  severity: 'error' | 'warning';
  /** Index, in the finding's diagnostics, of the one that explains the line. */
  diagnostic: number;
}

/** What a rule found on a make file it applies to. */
export interface RuleFinding {
  diagnostics: Diagnostic[];
  /** True when the Makefile has the problem the rule is about (a diagnostic above information). */
  problem: boolean;
  /** The line that lets the problem through: where "reveal" goes. */
  anchor: Span;
  /** The pipeline objects, for the explorer (stage ids from the rule's `explorer.stages`). */
  objects: PipelineObject[];
  /**
   * The links the rule knows from the Makefile (script, inputs, orphan handling): the explorer
   * places each input object's sections with them (the section's destination).
   */
  links?: BuildLink[];
  /** A note for the hover of a variable, when the rule has one. */
  hoverNote?(variable: string): string | undefined;
  /** What the rule could not read or evaluate in full (its verdict may miss something). */
  incomplete?: string[];
  /** The build's output lines this finding explains (from the objects the build left). */
  buildOutput?: BuildOutputLine[];
}

export interface FixDef {
  /** Unique within the rule; `fix` commands and keybinding aliases use it. */
  id: string;
  title: string;
  /** The quick-fix offered first (isPreferred). */
  preferred?: boolean;
  /** Used by source.fixAll. */
  fixAll?: boolean;
}

export interface StageDef {
  id: string;
  /** Shown in tooltips: what this object is in the pipeline. */
  label: string;
  /** Shown beside the object's name. */
  short: string;
  /** The stage made from this one (the panel's "compare with next"). */
  next?: string;
}

export interface SectionMarks {
  /** Section index -> why it breaks the build. */
  sections: Map<number, string>;
  /** Section index -> what a tool of the build says about it while the build still passes. */
  warnings?: Map<number, string>;
  /** What the tool the rule models would print for the whole object, when it would reject it. */
  objectProblem?: string;
}

/** One link that consumes an object, with where it puts each of the object's sections. */
export interface LinkPlacements {
  link: BuildLink;
  /** The script file the placements were read from ('' when the link has none). */
  scriptFile: string;
  /** False when the link has no SECTIONS: every section then goes where the linker's own naming puts it. */
  hasSections: boolean;
  /** Section index -> placement. */
  placements: Map<number, Placement>;
}

export interface ExplorerSupport {
  stages: readonly StageDef[];
  /** Directories (relative to a build directory) where Kbuild puts this pipeline's objects. */
  conventionalDirs: readonly string[];
  /** The stage of an object by Kbuild's names, before any Makefile is analyzed. */
  stageByName(file: string): string | undefined;
  /**
   * Marks the sections of an object that break the build this rule is about. `stage` is the
   * object's stage when it is known to be in the pipeline; `buildPath` its path relative to the build;
   * `links` the links of the build that consume it (from the rules' findings), sections placed.
   */
  classify(
    report: ObjectReport,
    reader: BuildReader,
    stage: string | undefined,
    buildPath: string | undefined,
    links: readonly LinkPlacements[],
  ): Promise<SectionMarks>;
  /** Why one section of an object of unknown place breaks the build (what `sections --json` marks). */
  sectionReason(section: ElfSection, elf: ElfFile): string | undefined;
}

export interface Rule {
  /** Also the name of the rule's folder; its explanation.md is shipped as rules/<id>.md. */
  id: string;
  /** Diagnostic codes the rule publishes (its own id first). */
  codes: readonly string[];
  /** The scan reads only make files that contain one of these strings. */
  prefilter: readonly string[];
  analyze(
    ctx: MakefileContext,
    build: () => Promise<BuildAccess | undefined>,
    links: Links,
  ): Promise<RuleFinding | undefined>;
  fixes: readonly FixDef[];
  /**
   * The edits of a fix, only when applying them clears the rule (the rule checks by re-analysis).
   * `build` is the build directory the analysis read: a rule whose finding rests on the build's
   * objects (not on the Makefile alone) needs it to re-analyze the edited text.
   */
  fix(
    ctx: MakefileContext,
    fixId: string,
    build: () => Promise<BuildAccess | undefined>,
  ): FixResult | undefined | Promise<FixResult | undefined>;
  /** Subject and body of the patch for `git am`; `fix` is the fix the patch carries. */
  patchText(ctx: MakefileContext, fixId: string, fix?: FixResult): { subject: string; body: string };
  explorer?: ExplorerSupport;
  /**
   * Codes of the rule's diagnostics that rest on a build made before the Makefile changed (stale
   * evidence, or a fix applied since): they say "rebuild to confirm" and get a code action that runs
   * the directory's build task.
   */
  rebuildCodes?: readonly string[];
  /**
   * The flags of one recorded compile command (its words, compiler first) that the rule's findings
   * rest on, as the compiler received them. A rebuild passes the ones the tree's Kbuild does not add
   * by itself again as KCFLAGS, so it builds what the last build built.
   */
  buildFlags?(words: readonly string[]): string[];
}

/** A rule's fix, as a command or a code action names it. */
export interface RuleFix {
  rule: Rule;
  def: FixDef;
}

/** Every fix of the rules (only of rule `ruleId`, when given); ids compare without case, as users type them. */
export function rulesFixes(rules: readonly Rule[], ruleId?: string): RuleFix[] {
  return rules.filter((r) => !ruleId || r.id === ruleId).flatMap((rule) => rule.fixes.map((def) => ({ rule, def })));
}

/** The fixes named `fixId` (of rule `ruleId`, when given). */
export function fixesNamed(rules: readonly Rule[], fixId: string, ruleId?: string): RuleFix[] {
  const wanted = fixId.toUpperCase();
  return rulesFixes(rules, ruleId).filter((f) => f.def.id.toUpperCase() === wanted);
}
