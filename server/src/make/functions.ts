// Pure word/string helpers behind make's text functions, aware of symbolic unknowns (values.ts).
//
// Unknown-value rules (documented contract):
// - A word that contains an unknown part is an "unknown word"; it stays a single word.
// - An unknown *pattern* (filter, filter-out, patsubst, subst `from`) is assumed NOT to match known
//   words/text: `$(filter-out $(UNDEFINED), a b)` keeps `a b`.
// - A known pattern is matched literally against a word even when the word holds unknown parts:
//   `-fprofile-sample-use=%` matches `-fprofile-sample-use=⟨PWD⟩/x.prof` (the unknown is in the stem).
// - filter keeps unknown words that no known pattern matches (they might match); filter-out keeps them.

import { isUnknownWord, splitWords } from './values';

/** Matches a make pattern (first `%` is the wildcard) against a word; returns the stem or null. */
function matchPattern(pattern: string, word: string): string | null {
  const pc = pattern.indexOf('%');
  if (pc < 0) return word === pattern ? '' : null;
  const pre = pattern.slice(0, pc);
  const suf = pattern.slice(pc + 1);
  if (word.length < pre.length + suf.length) return null;
  if (!word.startsWith(pre) || !word.endsWith(suf)) return null;
  return word.slice(pre.length, word.length - suf.length);
}

/** `cost` (optional) is told the pattern × word comparisons before they are made, and may throw. */
export function filterWords(
  patterns: string,
  text: string,
  out: boolean,
  cost?: (comparisons: number) => void,
): string {
  const pats = splitWords(patterns).filter((p) => !isUnknownWord(p));
  const words = splitWords(text);
  cost?.(pats.length * words.length);
  const res: string[] = [];
  for (const w of words) {
    let m = false;
    for (const p of pats) {
      if (matchPattern(p, w) !== null) {
        m = true;
        break;
      }
    }
    if (out ? !m : m || isUnknownWord(w)) res.push(w);
  }
  return res.join(' ');
}

export function patsubst(pattern: string, repl: string, text: string): string {
  const words = splitWords(text);
  if (isUnknownWord(pattern)) return words.join(' ');
  const rc = repl.indexOf('%');
  return words
    .map((w) => {
      const stem = matchPattern(pattern, w);
      if (stem === null) return w;
      return rc < 0 ? repl : repl.slice(0, rc) + stem + repl.slice(rc + 1);
    })
    .join(' ');
}

/** `$(var:from=to)`: a suffix substitution unless `from` holds a `%`. */
export function substRef(value: string, from: string, to: string): string {
  if (from.includes('%')) return patsubst(from, to, value);
  return patsubst('%' + from, '%' + to, value);
}

export function subst(from: string, to: string, text: string): string {
  if (from === '') return text + to;
  if (isUnknownWord(from)) return text;
  return text.split(from).join(to);
}

export function dirOf(word: string): string {
  const i = word.lastIndexOf('/');
  return i < 0 ? './' : word.slice(0, i + 1);
}
export function notdirOf(word: string): string {
  const i = word.lastIndexOf('/');
  return i < 0 ? word : word.slice(i + 1);
}
/** The suffix (from the last `.` of the last path component), or null. */
export function suffixOf(word: string): string | null {
  const i = word.lastIndexOf('.');
  if (i < 0 || word.indexOf('/', i) >= 0) return null;
  return word.slice(i);
}
export function basenameOf(word: string): string {
  const suffix = suffixOf(word);
  return suffix === null ? word : word.slice(0, word.length - suffix.length);
}

export function sortWords(text: string): string {
  const u = Array.from(new Set(splitWords(text)));
  u.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return u.join(' ');
}

export function joinWords(firsts: string, seconds: string): string {
  const firstWords = splitWords(firsts);
  const secondWords = splitWords(seconds);
  const n = Math.max(firstWords.length, secondWords.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((firstWords[i] ?? '') + (secondWords[i] ?? ''));
  return out.join(' ');
}

/** Normalises an absolute path as make's abspath does (no symlinks). */
export function absPath(word: string): string {
  const out: string[] = [];
  for (const part of word.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}
