// Custom LSP requests and notifications, declared once for both sides (like rust-analyzer's lsp_ext.ts).
// Only plain data types here: the client and the server each wrap these with their own library.
// No imports from `vscode` or `vscode-languageserver`, so both bundles can include this file.

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

export type PipelineStage = 'hyp-object' | 'tmp' | 'rel' | 'final' | 'other';
/** 'unknown': not read yet (large listings read only the first objects; listSections reads one). */
export type ObjectStatus = 'ok' | 'offending' | 'not-elf' | 'error' | 'unknown';

export interface BuildDirectoryInfo {
  /** file:// URI of the build directory (the source tree itself or an O= directory). */
  uri: string;
  /** file:// URI of the source tree it builds ('' for a folder that only holds objects the user added). */
  sourceUri: string;
  /** Number of objects of interest found (nvhe pipeline objects plus user-added ones); absent while still scanning. */
  objectCount?: number;
  /** True when at least one object breaks the nvhe pipeline; absent while still scanning. */
  offending?: boolean;
}

export interface ObjectInfo {
  uri: string;
  /** Path relative to the build directory. */
  relativePath: string;
  stage: PipelineStage;
  status: ObjectStatus;
  /** True for an object the user added (addObject). */
  added?: boolean;
  /** File size in bytes. */
  size?: number;
  /** One line: why the object is offending / not ELF / unreadable. */
  problem?: string;
  /** What gen-hyprel would print for this object, when it would reject it. */
  genHyprelMessage?: string;
  /** Number of offending sections (when status is known). */
  offendingCount?: number;
  /** Number of sections (when status is known and the object is ELF). */
  sectionCount?: number;
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
  /** Set when this section breaks the nvhe pipeline: the reason, in one sentence. */
  offending?: string;
  /** True for .debug_* and similar sections (the panel can hide them). */
  debug: boolean;
}

export const listBuildDirectories = request<Record<string, never>, { builds: BuildDirectoryInfo[] }>('kbuild/listBuildDirectories');
/** `truncated`: how many objects were left out of a very large listing. */
export const listObjects = request<{ buildUri: string }, { objects: ObjectInfo[]; truncated?: number }>('kbuild/listObjects');
export const listSections = request<{ objectUri: string }, { sections: SectionInfo[]; error?: string; object?: ObjectInfo }>('kbuild/listSections');
/** The full section table (and optionally relocations) in llvm-readelf layout. */
export const sectionTable = request<{ objectUri: string; relocations: boolean }, { text: string }>('kbuild/sectionTable');
/** Which sections each of two objects has that the other has not (by name), and those whose size changed. */
export const compareObjects = request<{ leftUri: string; rightUri: string }, { onlyLeft: string[]; onlyRight: string[]; changed: string[]; text: string }>('kbuild/compareObjects');
/** Adds an object the user picked to the explorer of its build directory. */
export const addObject = request<{ objectUri: string }, { ok: boolean; error?: string; buildUri?: string }>('kbuild/addObject');

export type FixForm = 'A' | 'B';
export interface LspPosition { line: number; character: number }
export interface LspRange { start: LspPosition; end: LspPosition }
export interface LspLocation { uri: string; range: LspRange }
export interface LspTextEdit { range: LspRange; newText: string }
export interface VersionedEdit { uri: string; version: number | null; edits: LspTextEdit[] }

/** Where the Makefile lets the metadata through (the line that should hold the fix). */
export const fixLocation = request<{ objectUri?: string; buildUri?: string }, { location: LspLocation | null }>('kbuild/fixLocation');
/** The edit for form A or B of the fix on an nvhe Makefile, or why none is needed/possible. */
export const fixEdit = request<{ makefileUri?: string; form: FixForm }, { edit: VersionedEdit | null; reason?: string }>('kbuild/fixEdit');
/** The chosen fix as a patch ready for `git am`. */
export const makePatch = request<{ makefileUri: string; form: FixForm }, { patch: string | null; fileName?: string; reason?: string }>('kbuild/makePatch');

/** Server -> client: objects in a build directory changed; the explorer should refresh. */
export const buildChanged = notification<{ buildUri: string }>('kbuild/buildChanged');
