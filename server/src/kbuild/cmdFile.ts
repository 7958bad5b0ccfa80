// A linear, bounded reader for Kbuild `.cmd` files (`savedcmd_T := COMMAND`, older `cmd_T := ...`):
// one pass over the text, each command word with its span, no make parser and no per-word re-scan
// (re-splitting the text for every flag placed made 40,000 commands take 40 s). Hostile sizes get an explicit answer:
// text over `maxChars` is 'too-large' without being scanned; more than `maxWords` words stops the
// scan with `incomplete` set, so callers never mistake a cut scan for "no flag found".
//
// Word rules follow kbuild/shellCommands.splitCommands (which the analysis uses on make recipes):
// commands split at `;`, `&&`, `||`, `|`, `&` and line ends; '…' and "…" quotes and backslash escapes
// are removed; `#` at a word start begins a shell comment; redirections and their targets are
// dropped; `VAR=value` and make's `@+-` prefixes stay in `words` (as in SimpleCommand.words).
// Make-level rules on the line: an unescaped `#` ends the value (make comment; Kbuild writes `\#`),
// and backslash-newline continues the logical line (a word break, as make's continuation is a space).
import type { Span } from '../make/ast';
import { effectiveProfileUse } from './profileFlags';

export interface CmdWord {
  /** The word after quote and escape removal (what the program receives). */
  text: string;
  /** Where the word is written in the file (quotes included), in UTF-16 units per line. */
  span: Span;
}
export interface CmdCommand {
  words: CmdWord[];
}
export interface CmdRecord {
  /** The target (`arch/arm64/kvm/hyp/nvhe/switch.nvhe.o`). */
  target: string;
  variable: 'savedcmd' | 'cmd';
  /** 0-based line of the assignment. */
  line: number;
  commands: CmdCommand[];
}
export interface CmdFileOptions {
  /** Refuse text longer than this many UTF-16 units (default 16 Mi). */
  maxChars?: number;
  /** Stop after this many words in all (default 1,000,000: about 300 MB of word objects in readCmdFile), with `incomplete` set. */
  maxWords?: number;
}
export type CmdFileResult =
  | { ok: true; records: CmdRecord[]; words: number; incomplete?: { reason: 'too-many-words'; message: string } }
  | { ok: false; reason: 'too-large'; message: string };

export const CMD_FILE_MAX_CHARS = 16 * 1024 * 1024;
const CMD_FILE_MAX_WORDS = 1_000_000;

const HEAD = /^(savedcmd|cmd)_([^\s:=#]+)[ \t]*(?::{1,3}=|=)[ \t]*/;

/**
 * Receives the words of one logical cmd line. Positions are 0-based line and UTF-16 column.
 * `word` returns true to stop the scan (a budget was reached).
 */
interface Sink {
  word(text: string, sl: number, sc: number, el: number, ec: number): boolean;
  endCommand(): void;
}

/** Walks the cmd lines of `text`, handing each logical line's value to `start(...)`'s sink. */
function scanText(
  text: string,
  start: (target: string, variable: 'savedcmd' | 'cmd', line: number) => Sink,
): { stopped: boolean } {
  let lineNo = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    // Only lines that start a cmd assignment are read word by word; others are skipped by indexOf.
    const c0 = text.charCodeAt(pos);
    if (c0 === 0x73 /* s */ || c0 === 0x63 /* c */) {
      const head = HEAD.exec(text.slice(pos, Math.min(eol, pos + 4096)));
      if (head) {
        const sink = start(head[2], head[1] as 'savedcmd' | 'cmd', lineNo);
        const r = scanValue(text, pos + head[0].length, pos, lineNo, sink);
        if (r.full) return { stopped: true };
        // Continue after the logical line (continuations included).
        lineNo = r.line + 1;
        pos = r.end + 1;
        continue;
      }
    }
    // A non-cmd line may still continue onto the next physical line; that line is not a new start.
    let next = eol;
    while (next < n && endsWithOddBackslashes(text, pos, next)) {
      lineNo++;
      const e = text.indexOf('\n', next + 1);
      pos = next + 1;
      next = e < 0 ? n : e;
    }
    lineNo++;
    pos = next + 1;
  }
  return { stopped: false };
}

/** Scans a `.cmd` file's text once into records with every word and its span. Never throws. */
export function readCmdFile(text: string, opts: CmdFileOptions = {}): CmdFileResult {
  const maxChars = opts.maxChars ?? CMD_FILE_MAX_CHARS;
  const maxWords = opts.maxWords ?? CMD_FILE_MAX_WORDS;
  if (text.length > maxChars)
    return {
      ok: false,
      reason: 'too-large',
      message: `.cmd file of ${text.length} characters is larger than the ${maxChars}-character limit; not read`,
    };
  const records: CmdRecord[] = [];
  let words = 0;
  const { stopped } = scanText(text, (target, variable, line) => {
    const rec: CmdRecord = { target, variable, line, commands: [] };
    records.push(rec);
    let cur: CmdWord[] = [];
    return {
      word(t, sl, sc, el, ec) {
        cur.push({ text: t, span: { start: { line: sl, character: sc }, end: { line: el, character: ec } } });
        return ++words >= maxWords;
      },
      endCommand() {
        if (cur.length > 0) rec.commands.push({ words: cur });
        cur = [];
      },
    };
  });
  if (stopped)
    return {
      ok: true,
      records,
      words,
      incomplete: {
        reason: 'too-many-words',
        message: `more than ${maxWords} words in this .cmd file; the rest was not read`,
      },
    };
  return { ok: true, records, words };
}

/** True when the physical line text[start, eol) ends (before an optional CR) with an odd run of `\`. */
function endsWithOddBackslashes(text: string, start: number, eol: number): boolean {
  let e = eol;
  if (e > start && text.charCodeAt(e - 1) === 0x0d) e--;
  let k = 0;
  while (e - 1 - k >= start && text.charCodeAt(e - 1 - k) === 0x5c) k++;
  return k % 2 === 1;
}

/** Characters that end a plain run inside a word. */
function special(c: number): boolean {
  // \n \r \t space " # & ' ; \\ |
  return (
    c === 10 ||
    c === 13 ||
    c === 9 ||
    c === 32 ||
    c === 34 ||
    c === 35 ||
    c === 38 ||
    c === 39 ||
    c === 59 ||
    c === 92 ||
    c === 124
  );
}

/**
 * Scans one logical line's value from `i` into `sink`. Returns where the logical line ended (index
 * of its '\n' or text.length), its last physical line, and whether the sink asked to stop.
 * Over 80 lines: one character loop over a whole .cmd value (continuations, comments, quotes,
 * redirections), kept in one function because it runs per byte of every .cmd file read.
 */
function scanValue(
  text: string,
  i: number,
  lineStart0: number,
  line0: number,
  sink: Sink,
): { end: number; line: number; full: boolean } {
  const n = text.length;
  let line = line0;
  let lineStart = lineStart0;
  let word = '';
  let inWord = false;
  let wStartLine = 0;
  let wStartCol = 0;
  const beginWord = (at: number): void => {
    if (!inWord) {
      inWord = true;
      wStartLine = line;
      wStartCol = at - lineStart;
    }
  };
  const endWord = (at: number): boolean => {
    let full = false;
    if (inWord) full = sink.word(word, wStartLine, wStartCol, line, at - lineStart);
    word = '';
    inWord = false;
    return full;
  };
  const endCommand = (at: number): boolean => {
    const full = endWord(at);
    sink.endCommand();
    return full;
  };
  for (; i < n; i++) {
    const c = text[i];
    if (c === '\n') break;
    if (c === '\r' && (i + 1 === n || text[i + 1] === '\n')) {
      // CRLF: the CR ends the word and belongs to the line end.
      if (endWord(i)) return { end: lineEnd(text, i), line, full: true };
      continue;
    }
    if (c === '\\') {
      // Make continuation: backslash, optional CR, newline.
      const nl = text[i + 1] === '\n' ? i + 1 : text[i + 1] === '\r' && text[i + 2] === '\n' ? i + 2 : -1;
      if (nl >= 0) {
        if (endWord(i)) return { end: nl, line, full: true };
        line++;
        lineStart = nl + 1;
        i = nl;
        continue;
      }
      if (i + 1 < n) {
        beginWord(i);
        word += text[i + 1];
        i++;
      }
      continue;
    }
    if (c === '#') {
      // An unescaped # is a make comment, even inside a word: the value ends here.
      const stop = lineEnd(text, i);
      return { end: stop, line, full: endCommand(i) };
    }
    if (c === "'") {
      beginWord(i);
      const end = text.indexOf("'", i + 1);
      let le = lineEnd(text, i + 1);
      if (le > i + 1 && text[le - 1] === '\r') le--; // an unterminated quote stops at the line end
      const stop = end < 0 || end > le ? le : end;
      word += text.slice(i + 1, stop);
      i = stop === end ? stop : stop - 1;
      continue;
    }
    if (c === '"') {
      beginWord(i);
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== '\n' && !(text[j] === '\r' && text[j + 1] === '\n')) {
        if (text[j] === '\\' && j + 1 < n && text[j + 1] !== '\n') j++;
        word += text[j];
        j++;
      }
      i = j < n && text[j] === '"' ? j : j - 1;
      continue;
    }
    if (c === ';' || c === '|' || c === '&') {
      if (endCommand(i)) return { end: lineEnd(text, i), line, full: true };
      if ((c === '|' || c === '&') && text[i + 1] === c) i++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (endWord(i)) return { end: lineEnd(text, i), line, full: true };
      continue;
    }
    if ((c === '>' || c === '<') && !inWord) {
      // A redirection: the operator and its target word are not arguments.
      let j = i + 1;
      if (text[j] === '>' || text[j] === '&') j++;
      while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
      while (j < n && !/[\s;|&]/.test(text[j])) j++;
      i = j - 1;
      continue;
    }
    // A plain run: taken as one slice.
    beginWord(i);
    let j = i + 1;
    while (j < n && !special(text.charCodeAt(j))) j++;
    word += text.slice(i, j);
    i = j - 1;
  }
  const end = i < n ? i : n;
  return { end, line, full: endCommand(end) };
}

function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

export interface CmdFlagEvidence {
  cmdFile: string;
  target: string;
  flag: string;
  span: Span;
}

/**
 * The profile-use flags that really reached the compiler in a `.cmd` file (the last enabling
 * spelling of each family that no negation follows), each with the span of that very word,
 * linear in the text; `incomplete` says the scan was cut
 * or refused, in which case an empty list does not mean "no flag".
 */
export function profileFlagsOfCmdFile(
  file: string,
  text: string,
  opts: CmdFileOptions = {},
): { flags: CmdFlagEvidence[]; incomplete?: string } {
  const maxChars = opts.maxChars ?? CMD_FILE_MAX_CHARS;
  const maxWords = opts.maxWords ?? CMD_FILE_MAX_WORDS;
  if (text.length > maxChars)
    return {
      flags: [],
      incomplete: `${file}: .cmd file of ${text.length} characters is larger than the ${maxChars}-character limit; not read`,
    };
  const flags: CmdFlagEvidence[] = [];
  let words = 0;
  // One command's words at a time (no span objects for words that are not flags).
  const texts: string[] = [];
  const pos: number[] = [];
  const { stopped } = scanText(text, (target) => ({
    word(t, sl, sc, el, ec) {
      texts.push(t);
      pos.push(sl, sc, el, ec);
      return ++words >= maxWords;
    },
    endCommand() {
      if (texts.length > 0) {
        for (const eff of effectiveProfileUse(texts)) {
          const k = 4 * texts.lastIndexOf(eff.flag);
          flags.push({
            cmdFile: file,
            target,
            flag: eff.flag,
            span: { start: { line: pos[k], character: pos[k + 1] }, end: { line: pos[k + 2], character: pos[k + 3] } },
          });
        }
      }
      texts.length = 0;
      pos.length = 0;
    },
  }));
  return stopped
    ? { flags, incomplete: `${file}: more than ${maxWords} words in this .cmd file; the rest was not read` }
    : { flags };
}

/** The profile-use flags in effect in each command of one record, with the span of that very word. */
export function profileFlagsOf(cmdFile: string, record: CmdRecord): CmdFlagEvidence[] {
  const out: CmdFlagEvidence[] = [];
  for (const c of record.commands) {
    const texts = c.words.map((w) => w.text);
    for (const eff of effectiveProfileUse(texts))
      out.push({ cmdFile, target: record.target, flag: eff.flag, span: c.words[texts.lastIndexOf(eff.flag)].span });
  }
  return out;
}
