// Reads a linker script (or its .lds.S source) for `/DISCARD/` output sections that drop a section.
// Preprocessor lines are read as text; only `#if 0` blocks are known to be dead.
import { globMatch } from './shellCommands';

export interface DiscardMatch {
  /** 0-based line of the input section pattern that matches. */
  line: number;
  pattern: string;
}

/** Where the script's /DISCARD/ drops `section`, if it does. */
export function findDiscard(text: string, section: string): DiscardMatch | undefined {
  const clean = blankOutDeadAndComments(text);
  const re = /\/DISCARD\/\s*:\s*\{/g;
  for (let m = re.exec(clean); m; m = re.exec(clean)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const bodyStart = i;
    while (i < clean.length && depth > 0) {
      if (clean[i] === '{') depth++;
      else if (clean[i] === '}') depth--;
      i++;
    }
    const body = clean.slice(bodyStart, i - 1);
    // Innermost parenthesised lists hold the section patterns: `*(.a .b)`, `KEEP(*(.c))`.
    const inner = /\(([^()]*)\)/g;
    for (let p = inner.exec(body); p; p = inner.exec(body)) {
      for (const pattern of p[1].split(/\s+/).filter((w) => w && !w.startsWith('EXCLUDE_FILE'))) {
        if (globMatch(pattern, section)) {
          const offset = bodyStart + p.index;
          return { line: lineOf(clean, offset), pattern };
        }
      }
    }
  }
  return undefined;
}

function lineOf(text: string, offset: number): number {
  let line = 0;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** Replaces comments and `#if 0` blocks with spaces, keeping every newline so lines still match. */
function blankOutDeadAndComments(text: string): string {
  let out = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  const lines = out.split('\n');
  let dead = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (dead > 0) {
      if (/^#\s*if/.test(t)) dead++;
      else if (/^#\s*endif/.test(t) || (dead === 1 && /^#\s*(else|elif)/.test(t))) dead--;
      lines[i] = '';
    } else if (/^#\s*if\s+0\b/.test(t)) {
      dead = 1;
      lines[i] = '';
    } else if (/^#/.test(t)) {
      lines[i] = '';
    }
  }
  out = lines.join('\n');
  return out;
}
