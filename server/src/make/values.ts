// Symbolic make values. A value the evaluator cannot know (an external variable, $(shell ...),
// $(wildcard ...), a limit that was hit) is kept inside ordinary strings as
// UNKNOWN_OPEN + label + UNKNOWN_CLOSE, so it flows through word splitting and string functions.
// Labels never contain whitespace, `$`, parentheses or the marker characters themselves, so an
// unknown stays one word and stays inert when stored in a recursive variable and re-expanded.

export const UNKNOWN_OPEN = '\u0001';
export const UNKNOWN_CLOSE = '\u0002';

const LABEL_STRIP = new RegExp(`[\\s$(){}${UNKNOWN_OPEN}${UNKNOWN_CLOSE}]`, 'g');
const UNKNOWN_PART = new RegExp(`${UNKNOWN_OPEN}([^${UNKNOWN_CLOSE}]*)${UNKNOWN_CLOSE}`, 'g');

/** An unknown value named `label` (e.g. the external variable it stands for). */
export function unknownValue(label: string): string {
  let l = label.replace(LABEL_STRIP, '');
  if (l.length > 80) l = l.slice(0, 80);
  if (l === '') l = '?';
  return UNKNOWN_OPEN + l + UNKNOWN_CLOSE;
}

/** True when the word (or any string) holds at least one unknown part. */
export function isUnknownWord(word: string): boolean {
  return word.includes(UNKNOWN_OPEN);
}

const WS = /[ \t\n\r\f\v]+/;

/** make's word splitting: runs of whitespace separate words; no empty words. */
export function splitWords(text: string): string[] {
  if (text === '') return [];
  const parts = text.split(WS);
  if (parts.length && parts[0] === '') parts.shift();
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The value with its unknown parts removed (what is certainly there). */
export function withoutUnknowns(value: string): string {
  return value.includes(UNKNOWN_OPEN) ? value.replace(UNKNOWN_PART, '') : value;
}

/** Human rendering: unknown parts become ⟨LABEL⟩. */
export function displayValue(value: string): string {
  if (!value.includes(UNKNOWN_OPEN)) return value;
  return value.replace(UNKNOWN_PART, '⟨$1⟩');
}

/** The literal text before the first unknown part (the whole string when fully known). */
export function knownPrefix(s: string): string {
  const i = s.indexOf(UNKNOWN_OPEN);
  return i < 0 ? s : s.slice(0, i);
}

/** The literal text after the last unknown part (the whole string when fully known). */
export function knownSuffix(s: string): string {
  const i = s.lastIndexOf(UNKNOWN_CLOSE);
  return i < 0 ? s : s.slice(i + 1);
}
