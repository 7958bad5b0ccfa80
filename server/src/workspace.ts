// The server's state: settings, open documents, the nvhe Makefiles found in the workspace, their
// latest analyses, and the build reader cache. Features read it; only the hub and this file write it.
import { promises as fs } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { BuildReader } from './build/buildModel';
import type { Makefile } from './make/ast';
import { AnalysisCache, analyzeMakefile, type MakefileAnalysis } from './nvheAnalysis';

export interface Settings {
  /** The build directory (O=), absolute or relative to the kernel tree; empty = discover. */
  buildDirectory: string;
  /** Delay between an edit and re-analysis, in ms. */
  debounceMs: number;
}

/** 150 ms: below the ~200 ms at which a reaction stops feeling immediate, above a typing burst's key gap. */
export const DEFAULT_DEBOUNCE_MS = 150;
const MAX_MAKEFILE_BYTES = 16 * 1024 * 1024;

export function uriToPath(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export function pathToUri(p: string): string {
  return pathToFileURL(p).toString();
}

export class Workspace {
  readonly reader = new BuildReader();
  settings: Settings = { buildDirectory: '', debounceMs: DEFAULT_DEBOUNCE_MS };
  roots: string[] = [];
  /** Makefiles known to hold the nvhe pipeline, by path. */
  readonly nvheMakefiles = new Set<string>();
  readonly analyses = new Map<string, MakefileAnalysis>();
  /** Set when the client watches build files for us: then build lookups are cached between edits. */
  cache: AnalysisCache | undefined;
  /** Called when a file is first found to be an nvhe Makefile (the explorer can then list by meaning). */
  onNvheMakefileFound: ((analysis: MakefileAnalysis) => void) | undefined;

  constructor(
    readonly connection: Connection,
    readonly documents: TextDocuments<TextDocument>,
  ) {}

  /** The open document's text and version, else the file on disk (bounded in size). */
  async textOf(file: string): Promise<{ text: string; version: number | null } | undefined> {
    const doc = this.documents.get(pathToUri(file));
    if (doc) return { text: doc.getText(), version: doc.version };
    try {
      const st = await fs.stat(file);
      if (!st.isFile() || st.size > MAX_MAKEFILE_BYTES) return undefined;
      return { text: await fs.readFile(file, 'utf8'), version: null };
    } catch {
      return undefined;
    }
  }

  /** Runs the nvhe rule; `makefile` is the parse of `text` when the caller already has it. */
  async analyze(file: string, text: string, makefile?: Makefile): Promise<MakefileAnalysis> {
    const analysis = await analyzeMakefile(file, text, {
      reader: this.reader,
      buildDirectory: this.settings.buildDirectory || undefined,
      searchRoots: this.roots,
      cache: this.cache,
      makefile,
    });
    const known = this.nvheMakefiles.has(file);
    if (analysis.verdict) this.nvheMakefiles.add(file);
    else this.nvheMakefiles.delete(file);
    this.analyses.set(file, analysis);
    if (analysis.verdict && !known) this.onNvheMakefileFound?.(analysis);
    return analysis;
  }
}
