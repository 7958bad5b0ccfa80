// What the client and the server share, declared once (like rust-analyzer's lsp_ext.ts): custom LSP
// requests and notifications, setting names and defaults, limits and the version.
// Only plain data types here: the client and the server each wrap these with their own library.
// No imports from `vscode` or `vscode-languageserver`, so both bundles can include this file.
import manifest from '../../package.json';

/** The extension's version, from package.json. */
export const VERSION: string = manifest.version;
export const SERVER_NAME = 'kbuild-diagnostics';
/** The settings section (`kbuildDiagnostics.*`). */
export const SETTINGS_SECTION = 'kbuildDiagnostics';
export interface Settings {
  /** The build directory (O=), absolute or relative to the kernel tree; empty = discover. */
  buildDirectory: string;
  /** Delay between an edit and re-analysis, in ms. */
  debounceMs: number;
  /** Inlay hints with the build configuration's value after each CONFIG_ reference. */
  configInlayHints: boolean;
}
/** Setting defaults: package.json declares the same values (a test checks they agree). */
export const DEFAULT_SETTINGS: Settings = {
  buildDirectory: '',
  // 150 ms: below the ~200 ms at which a reaction stops feeling immediate, above a typing burst's key gap.
  debounceMs: 150,
  configInlayHints: true,
};
/**
 * Make files beyond this size are not analyzed in the editor (real Kbuild files are under 100 KB;
 * parsing 50 MB would hold the server for seconds): they get one informational diagnostic instead.
 */
export const MAX_ANALYZED_CHARS = 4 * 1024 * 1024;
/** Diagnostic code of "this analysis could not read or evaluate everything it depends on". */
export const INCOMPLETE_CODE = 'analysis-incomplete';
/** Diagnostic code of a conditional branch the build's configuration does not take (shown faded). */
export const INACTIVE_BRANCH_CODE = 'inactive-branch';
/** Largest make file read from disk at all (the workspace scan, closed files). */
export const MAX_MAKEFILE_BYTES = 16 * 1024 * 1024;
/** The command prefix of fix commands: `<prefix><fix id>` applies that fix (keybinding aliases). */
export const APPLY_FIX_COMMAND = 'kbuildDiagnostics.applyFix';

/** A typed request: `method` on the wire, P the params, R the result. */
export interface RequestDef<P, R> {
  readonly method: string;
  /** Phantom field carrying the types; never set. */
  readonly _types?: [P, R];
}
/** A typed notification. */
export interface NotificationDef<P> {
  readonly method: string;
  readonly _types?: P;
}
function request<P, R>(method: string): RequestDef<P, R> {
  return { method };
}
function notification<P>(method: string): NotificationDef<P> {
  return { method };
}

/** A pipeline stage id from a rule ('other': an object no rule places in a pipeline). */
export type PipelineStage = string;
/** 'unknown': not read yet (large listings read only the first objects; listSections reads one). */
export type ObjectStatus = 'ok' | 'offending' | 'not-elf' | 'error' | 'unknown';

export interface BuildDirectoryInfo {
  /** file:// URI of the build directory (the source tree itself or an O= directory). */
  uri: string;
  /** file:// URI of the source tree it builds ('' for a folder that only holds objects the user added). */
  sourceUri: string;
  /** Number of objects of interest found (pipeline objects plus user-added ones); absent while still scanning. */
  objectCount?: number;
  /** True when at least one object breaks a pipeline a rule follows; absent while still scanning. */
  offending?: boolean;
}

export interface ObjectInfo {
  uri: string;
  /** Path relative to the build directory. */
  relativePath: string;
  stage: PipelineStage;
  /** What the stage is, from the rule that lists it ('' for other objects). */
  stageLabel: string;
  /** A short stage name to show beside the object ('' for other objects). */
  stageShort: string;
  /** The stage made from this one, for "compare with next". */
  nextStage?: PipelineStage;
  status: ObjectStatus;
  /** True for an object the user added (addObject). */
  added?: boolean;
  /** File size in bytes. */
  size?: number;
  /** One line: why the object is offending / not ELF / unreadable. */
  problem?: string;
  /** What the tool a rule models would print for this object, when it would reject it. */
  objectProblem?: string;
  /** Number of offending sections (when status is known). */
  offendingCount?: number;
  /** Number of sections (when status is known and the object is ELF). */
  sectionCount?: number;
  /** Number of sections a build tool warns about while the build passes (when status is known). */
  warningCount?: number;
  /** The links of the build that consume this object (their outputs, relative to the build directory). */
  linkedInto?: string[];
}

/** Where one link of the build puts a section (the linker-script model, as ld.lld would). */
export interface SectionDestination {
  /** The link's output, relative to the build directory (e.g. arch/arm64/kernel/vdso/vdso.so.dbg). */
  link: string;
  /** The script file the placement was read from ('' when the link has no script). */
  script: string;
  /**
   * 'output': an output section (one the script names, or in a link without SECTIONS the linker's
   * own); 'discard': /DISCARD/; 'orphan': no description of the script matches, so the linker makes
   * `output` for it; 'dropped': the linker consumes it (`why`); 'unknown': the script could not be read (`why`).
   */
  kind: 'output' | 'discard' | 'orphan' | 'dropped' | 'unknown';
  output?: string;
  why?: string;
}

export interface SectionInfo {
  index: number;
  name: string;
  type: number;
  typeName: string;
  /** Flags as a decimal string (64-bit values do not fit a JSON number). */
  flags: string;
  flagLetters: string;
  /** 64-bit values as 0x-prefixed hex strings. */
  address: string;
  offset: string;
  size: string;
  entsize: string;
  link: number;
  info: number;
  alignment: string;
  /** Set when this section breaks a pipeline a rule follows: the reason, in one sentence. */
  offending?: string;
  /** Set when a tool of the build warns about this section while the build passes. */
  warning?: string;
  /** Where each link that consumes the object puts this section (absent when no known link consumes it). */
  destinations?: SectionDestination[];
  /** True for .debug_* and similar sections (the panel can hide them). */
  debug: boolean;
}

export const listBuildDirectories = request<Record<string, never>, { builds: BuildDirectoryInfo[] }>(
  'kbuild/listBuildDirectories',
);
/** `truncated`: how many objects were left out of a very large listing. */
export const listObjects = request<{ buildUri: string }, { objects: ObjectInfo[]; truncated?: number }>(
  'kbuild/listObjects',
);
/** Sections per listSections answer: a vmlinux.o has hundreds of thousands; the panel pages through them. */
export const SECTION_PAGE = 1000;
/**
 * One page of an object's sections (`offset`, `limit` default SECTION_PAGE; `only: 'offending'` pages
 * through the marked ones only); `total` counts what the page is taken from.
 */
export const listSections = request<
  { objectUri: string; offset?: number; limit?: number; only?: 'offending' },
  { sections: SectionInfo[]; total: number; error?: string; object?: ObjectInfo }
>('kbuild/listSections');
/** The full section table (and optionally relocations) in llvm-readelf layout. */
export const sectionTable = request<{ objectUri: string; relocations: boolean }, { text: string }>(
  'kbuild/sectionTable',
);
/** Which sections each of two objects has that the other has not (by name), and those whose size changed. */
export const compareObjects = request<
  { leftUri: string; rightUri: string },
  { onlyLeft: string[]; onlyRight: string[]; changed: string[]; text: string }
>('kbuild/compareObjects');
/** Adds an object the user picked to the explorer of its build directory. */
export const addObject = request<{ objectUri: string }, { ok: boolean; error?: string; buildUri?: string }>(
  'kbuild/addObject',
);

/** A fix on the wire: the rule and its fix id (the rule may be left out when the fix id is unique). */
export interface FixRef {
  rule?: string;
  fix: string;
}
export interface LspPosition {
  line: number;
  character: number;
}
export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}
export interface LspLocation {
  uri: string;
  range: LspRange;
}
export interface LspTextEdit {
  range: LspRange;
  newText: string;
}
export interface VersionedEdit {
  uri: string;
  version: number | null;
  edits: LspTextEdit[];
}
export interface AvailableFix {
  rule: string;
  fix: string;
  title: string;
  /** The file the fix edits. */
  uri: string;
  preferred: boolean;
}

/** Where the Makefile lets the problem through (the line that should hold the fix). */
export const fixLocation = request<{ objectUri?: string; buildUri?: string }, { location: LspLocation | null }>(
  'kbuild/fixLocation',
);
/** The fixes that clear a problem in the Makefile named (or the workspace's), for a picker. */
export const availableFixes = request<{ makefileUri?: string }, { fixes: AvailableFix[] }>('kbuild/availableFixes');
/**
 * The edit of one fix, or why none is needed/possible. `edit` is the make file's (or, for a fix that
 * leaves the make file alone, the first file's); `others` the edits of the other files it changes,
 * applied together with it.
 */
export const fixEdit = request<
  { makefileUri?: string } & FixRef,
  { edit: VersionedEdit | null; others?: VersionedEdit[]; reason?: string }
>('kbuild/fixEdit');
/** The chosen fix as a patch ready for `git am`. */
export const makePatch = request<
  { makefileUri: string } & FixRef,
  { patch: string | null; fileName?: string; reason?: string }
>('kbuild/makePatch');

/** Server -> client: objects in a build directory changed; the explorer should refresh. */
export const buildChanged = notification<{ buildUri: string }>('kbuild/buildChanged');

/** The task type of build tasks (package.json `taskDefinitions`; tasks.json `"type": "kbuild"`). */
export const TASK_TYPE = 'kbuild';
/** The command a "rebuild to confirm" code action runs: the client runs the directory's build task. */
export const REBUILD_COMMAND = 'kbuildDiagnostics.rebuild';
/** A `make` the server computed from what a build directory records; only VS Code's task system runs it. */
export interface BuildTaskInfo {
  /** "build arch/arm64/kvm/hyp/nvhe/" (VS Code shows it as "Kbuild: build ..."). */
  label: string;
  /** The make goal: a directory relative to the kernel tree, with a trailing slash. */
  directory: string;
  /** The kernel tree (source) and the build directory (the tree itself, or the O= directory). */
  sourceDir: string;
  buildDir: string;
  /** Where make runs (the kernel tree, as a user types the command). */
  cwd: string;
  command: string;
  args: string[];
  /** The command as one shell line (the task's detail). */
  commandLine: string;
  /** What the build does not record, so the command may differ from the last build's. */
  notes: string[];
}
/** The build task of every directory with a finding. */
export const buildTasks = request<Record<string, never>, { tasks: BuildTaskInfo[] }>('kbuild/buildTasks');
/**
 * One directory's build task: named by a make file with a finding (`makefileUri`, the code action's
 * argument), or by a task definition (`directory` relative to the kernel tree in `folder`, with an
 * optional `buildDirectory`).
 */
export const buildTask = request<
  { makefileUri?: string; folder?: string; directory?: string; buildDirectory?: string },
  { task: BuildTaskInfo | null; reason?: string }
>('kbuild/buildTask');
