// Where an edit can go in a linker script's SOURCE (a `.lds.S` before the preprocessor, or a plain
// script): the closing brace of its SECTIONS command and of each `/DISCARD/` output section written
// there literally (not inside a #define, a comment or a string). Positions are LSP-style (0-based
// line, UTF-16 column). Whether an edit placed here does what it should is for the caller to check
// on the preprocessed result (a site inside an inactive #if changes nothing). Pure: text in, sites out.

export interface SourcePos {
  line: number;
  character: number;
}

export interface BraceSite {
  /** The closing `}`. */
  close: SourcePos;
  /** The `}` is the first thing on its line (a new line can go before it). */
  ownLine: boolean;
  /** The indentation of the block's own lines (of its first non-empty line after the `{`). */
  innerIndent: string;
}

export interface ScriptSourceSites {
  /** The SECTIONS command's body, when the source has one written literally. */
  sections?: BraceSite;
  /** The `/DISCARD/` output sections directly inside that body, in source order. */
  discards: BraceSite[];
}

interface Scan {
  text: string;
  i: number;
  line: number;
  lineStart: number;
}

function pos(s: Scan, at: number): SourcePos {
  return { line: s.line, character: at - s.lineStart };
}

function newline(s: Scan): void {
  s.line++;
  s.lineStart = s.i + 1;
}

/** Skips a comment, string or preprocessor line at s.i; true when one was skipped (s.i past it). */
function skipTrivia(s: Scan, atLineStart: boolean): boolean {
  const { text } = s;
  if (text.startsWith('/*', s.i)) {
    s.i += 2;
    while (s.i < text.length && !text.startsWith('*/', s.i)) {
      if (text[s.i] === '\n') newline(s);
      s.i++;
    }
    s.i += 2;
    return true;
  }
  if (text.startsWith('//', s.i) || (atLineStart && text[s.i] === '#')) {
    // To the end of the line, through backslash continuations (a directive or a line comment).
    while (s.i < text.length && text[s.i] !== '\n') {
      if (text[s.i] === '\\' && text[s.i + 1] === '\n') {
        s.i++;
        newline(s);
      } else if (text.startsWith('/*', s.i)) {
        skipTrivia(s, false);
        continue;
      }
      s.i++;
    }
    return true;
  }
  if (text[s.i] === '"') {
    s.i++;
    while (s.i < text.length && text[s.i] !== '"' && text[s.i] !== '\n') s.i += text[s.i] === '\\' ? 2 : 1;
    s.i++;
    return true;
  }
  return false;
}

/**
 * The indentation of a block's own lines: of the first non-empty line between its `{` (at `open`)
 * and its `}` (at `close`); for a block on one line, the indentation of that line one tab deeper.
 */
function innerIndentOf(text: string, open: number, close: number): string {
  const lines = text.slice(open, close).split('\n').slice(1);
  const first = lines.find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (first !== undefined) return /^[ \t]*/.exec(first)?.[0] ?? '';
  const lineStart = text.lastIndexOf('\n', close) + 1;
  return (/^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? '') + '\t';
}

/** The sites of a linker script's source text. */
export function scriptSourceSites(text: string): ScriptSourceSites {
  const s: Scan = { text, i: 0, line: 0, lineStart: 0 };
  const out: ScriptSourceSites = { discards: [] };
  // Open braces: what each one opened ('sections', 'discard' directly in SECTIONS, or other).
  const stack: { kind: 'sections' | 'discard' | 'other'; at: number }[] = [];
  let pending: 'sections' | 'discard' | undefined;
  let atLineStart = true;
  while (s.i < text.length) {
    const c = text[s.i];
    if (c === '\n') {
      newline(s);
      s.i++;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      s.i++;
      continue;
    }
    if (skipTrivia(s, atLineStart)) {
      atLineStart = false;
      continue;
    }
    atLineStart = false;
    const top = stack[stack.length - 1];
    if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(s.i, s.i + 64))?.[0] ?? c;
      if (word === 'SECTIONS' && stack.length === 0 && !out.sections) pending = 'sections';
      s.i += word.length;
      continue;
    }
    if (text.startsWith('/DISCARD/', s.i) && top?.kind === 'sections') {
      pending = 'discard';
      s.i += '/DISCARD/'.length;
      continue;
    }
    if (c === '{') {
      stack.push({ kind: pending ?? 'other', at: s.i });
      pending = undefined;
    } else if (c === '}') {
      const open = stack.pop();
      if (open && open.kind !== 'other') {
        const lineStart = s.lineStart;
        const site: BraceSite = {
          close: pos(s, s.i),
          ownLine: text.slice(lineStart, s.i).trim() === '',
          innerIndent: innerIndentOf(text, open.at, s.i),
        };
        if (open.kind === 'sections') out.sections = site;
        else out.discards.push(site);
      }
    } else if (c === ';' && pending === 'sections') pending = undefined;
    s.i++;
  }
  return out;
}
