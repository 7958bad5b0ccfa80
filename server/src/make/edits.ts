// Text edits as an editor applies them: LSP-style ranges (0-based lines, UTF-16 columns).
import type { Pos, Span } from './ast';

export interface PlainEdit {
  range: Span;
  newText: string;
}

/** Lines of a text, without their line ends. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

function offsetOf(text: string, pos: Pos): number {
  let line = 0;
  let i = 0;
  while (line < pos.line && i < text.length) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return text.length;
    i = nl + 1;
    line++;
  }
  return Math.min(i + pos.character, text.length);
}

/** Applies non-overlapping edits (as an editor would) and returns the new text. */
export function applyEdits(text: string, edits: readonly PlainEdit[]): string {
  const sorted = edits
    .map((e) => ({ start: offsetOf(text, e.range.start), end: offsetOf(text, e.range.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

/** A fix's edits to a file other than the make file it is computed for (e.g. its linker script). */
export interface FileEdit {
  /** Absolute path. */
  file: string;
  /** The text the edits were computed on (the file as it was read). */
  oldText: string;
  edits: PlainEdit[];
  newText: string;
}

/** A fix: its edits to the make file (possibly none) and the text they produce, and edits to other files. */
export interface FixResult {
  edits: PlainEdit[];
  newText: string;
  /** Other files the fix edits, when it edits more than the make file. */
  files?: FileEdit[];
  /** The fix's title for this finding (it names the section and the file), instead of its FixDef's. */
  title?: string;
  /** Whether this fix is the preferred one for this finding, instead of its FixDef's `preferred`. */
  preferred?: boolean;
}
