// Tokens of the GNU/ld.lld linker-script language, with their line. Comments (`/* */`, and `#` line
// markers a preprocessor may leave) are skipped. Bare words are as loose as ld.lld's: file names and
// globs (`*crtbegin.o`, `.text.[0-9]*`, `/DISCARD/`) are one word; expressions are not evaluated, so
// how they split does not matter beyond their parentheses and `;`.

export interface Token {
  text: string;
  line: number;
  /** Offset of the token in the text. */
  start: number;
  /** Whitespace or a comment separates it from the previous token. */
  spaced: boolean;
  quoted: boolean;
}

const WORD = /[A-Za-z0-9_.$/\\~+\-[\]*?!^@]/;
const TWO_CHAR = new Set(['<<', '>>', '==', '!=', '<=', '>=', '&&', '||', '+=', '-=', '*=', '/=', '&=', '|=', '^=']);

/**
 * Splits `text`; `errors` gets unterminated comments and strings (the rest of the text is dropped).
 * Stops after `maxTokens + 1` tokens (the caller refuses the script), so a huge input costs no more.
 */
export function tokenize(text: string, errors: string[], maxTokens = Infinity): Token[] {
  const out: Token[] = [];
  let line = 0;
  let spaced = true;
  let i = 0;
  const n = text.length;
  while (i < n && out.length <= maxTokens) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
      spaced = true;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      spaced = true;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) {
        errors.push(`line ${line + 1}: unterminated comment`);
        break;
      }
      for (let k = i; k < end; k++) if (text.charCodeAt(k) === 10) line++;
      i = end + 2;
      spaced = true;
    } else if (c === '#' && atLineStart(text, i)) {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) {
        errors.push(`line ${line + 1}: unterminated string`);
        break;
      }
      out.push({ text: text.slice(i + 1, end), line, start: i, spaced, quoted: true });
      for (let k = i; k < end; k++) if (text.charCodeAt(k) === 10) line++;
      i = end + 1;
      spaced = false;
    } else if (WORD.test(c) && !(c === '/' && text[i + 1] === '*')) {
      const start = i;
      while (i < n && WORD.test(text[i]) && !(text[i] === '/' && text[i + 1] === '*')) i++;
      // `a+=1`, `a-=1`: the operator before `=` belongs to the assignment, not the word.
      let end = i;
      if (text[i] === '=' && end - start > 1 && /[+\-*/]/.test(text[end - 1])) end--;
      out.push({ text: text.slice(start, end), line, start, spaced, quoted: false });
      i = end;
      spaced = false;
    } else {
      const two = text.slice(i, i + 2);
      const t = TWO_CHAR.has(two) ? two : c;
      out.push({ text: t, line, start: i, spaced, quoted: false });
      i += t.length;
      spaced = false;
    }
  }
  return out;
}

function atLineStart(text: string, i: number): boolean {
  for (let k = i - 1; k >= 0; k--) {
    const c = text[k];
    if (c === '\n') return true;
    if (c !== ' ' && c !== '\t') return false;
  }
  return true;
}
