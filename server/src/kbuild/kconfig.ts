// A Kconfig file's entries and the files it sources, parsed from text (pure: no I/O). Only what the
// editor needs: `config`/`menuconfig` entries with their type, prompt and first help line, the
// `source` family of lines, and the preprocessor's variable assignments (`NAME := value`), in order,
// so a walker can resolve `$(SRCARCH)` and the like as Kconfig does. Never throws; a line it cannot
// read is skipped, and a bounded amount of work per file is done whatever the input.

export type KconfigType = 'bool' | 'tristate' | 'string' | 'int' | 'hex';

export interface KconfigEntry {
  name: string;
  kind: 'config' | 'menuconfig';
  /** 0-based line of the `config NAME` line and the name's columns on it. */
  line: number;
  nameStart: number;
  nameEnd: number;
  type?: KconfigType;
  prompt?: string;
  /** The first line of the help text. */
  help?: string;
}

export interface KconfigSource {
  /** rsource/orsource: relative to the file's folder; source/osource: to the tree. */
  relative: boolean;
  /** osource/orsource: a missing file is not an error. */
  optional: boolean;
  /** The path as written (may hold $(VAR) references and globs). */
  path: string;
  line: number;
}

export interface KconfigAssignment {
  name: string;
  op: ':=' | '=' | '+=';
  value: string;
  line: number;
}

/** In file order, so variables are set before the sources that read them. */
export type KconfigItem = ({ kind: 'source' } & KconfigSource) | ({ kind: 'assign' } & KconfigAssignment);

export interface KconfigFile {
  entries: KconfigEntry[];
  items: KconfigItem[];
}

/** Lines longer than this are not read (a Kconfig line is under 200 characters). */
const MAX_LINE = 10_000;
const TYPES = new Set<string>(['bool', 'tristate', 'string', 'int', 'hex']);
const DEF_TYPES: Record<string, KconfigType> = { def_bool: 'bool', def_tristate: 'tristate' };

/** The quoted string at the start of `s` ("..." or '...', backslash escapes), else undefined. */
export function quoted(s: string): string | undefined {
  const q = s[0];
  if (q !== '"' && q !== "'") return undefined;
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) out += s[++i];
    else if (c === q) return out;
    else out += c;
  }
  return undefined;
}

function indentWidth(line: string): number {
  let w = 0;
  for (const c of line) {
    if (c === ' ') w++;
    else if (c === '\t') w = (w & ~7) + 8;
    else break;
  }
  return w;
}

/** Physical lines joined at backslash-newline, each with the line number it starts on. */
function logicalLines(text: string): { text: string; line: number }[] {
  const raw = text.split(/\r?\n/);
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let t = raw[i].length > MAX_LINE ? '' : raw[i];
    while (t.endsWith('\\') && i + 1 < raw.length) {
      i++;
      t = t.slice(0, -1) + (raw[i].length > MAX_LINE ? '' : raw[i]);
      if (t.length > MAX_LINE) t = '';
    }
    out.push({ text: t, line: start });
  }
  return out;
}

export function parseKconfig(text: string): KconfigFile {
  const entries: KconfigEntry[] = [];
  const items: KconfigItem[] = [];
  const lines = logicalLines(text);
  let entry: KconfigEntry | undefined;
  for (let i = 0; i < lines.length; i++) {
    const { text: raw, line } = lines[i];
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(t)?.[0] ?? '';
    const rest = t.slice(word.length).trim();
    if (word === 'config' || word === 'menuconfig') {
      const name = /^[A-Za-z0-9_]+/.exec(rest)?.[0];
      entry = undefined;
      if (!name) continue;
      const nameStart = raw.indexOf(name, raw.indexOf(word) + word.length);
      entry = { name, kind: word, line, nameStart, nameEnd: nameStart + name.length };
      entries.push(entry);
    } else if (/^(o?r?source)$/.test(word)) {
      const p = quoted(rest) ?? (/^\S+$/.test(rest) ? rest : undefined);
      if (p !== undefined)
        items.push({
          kind: 'source',
          relative: word === 'rsource' || word === 'orsource',
          optional: word.startsWith('o'),
          path: p,
          line,
        });
      entry = undefined;
    } else if (word === 'help' || t === '---help---') {
      const h = helpText(lines, i, indentWidth(raw));
      if (entry && h.first !== undefined) entry.help = h.first;
      i = h.last;
    } else if (entry && (TYPES.has(word) || word in DEF_TYPES)) {
      entry.type = DEF_TYPES[word] ?? (word as KconfigType);
      const p = TYPES.has(word) ? quoted(rest) : undefined;
      if (p !== undefined && entry.prompt === undefined) entry.prompt = p;
    } else if (entry && word === 'prompt') {
      const p = quoted(rest);
      if (p !== undefined && entry.prompt === undefined) entry.prompt = p;
    } else if (/^(choice|endchoice|menu|endmenu|if|endif|comment|mainmenu)$/.test(word)) {
      entry = undefined;
    } else {
      const a = /^([A-Za-z0-9_-]+)\s*(:=|\+=|=)\s*(.*)$/.exec(t);
      if (a) {
        items.push({ kind: 'assign', name: a[1], op: a[2] as KconfigAssignment['op'], value: a[3], line });
        entry = undefined;
      }
    }
  }
  return { entries, items };
}

/** Help text: the lines after `help` indented more than it (blank lines inside are kept). */
function helpText(
  lines: { text: string; line: number }[],
  at: number,
  helpIndent: number,
): { first?: string; last: number } {
  let first: string | undefined;
  let textIndent: number | undefined;
  let last = at;
  for (let j = at + 1; j < lines.length; j++) {
    const l = lines[j].text;
    if (l.trim() === '') {
      last = j;
      continue;
    }
    const w = indentWidth(l);
    if (textIndent === undefined) {
      if (w <= helpIndent) break;
      textIndent = w;
    } else if (w < textIndent) break;
    if (first === undefined) first = l.trim();
    last = j;
  }
  return { first, last };
}

/**
 * Expands Kconfig preprocessor references `$(NAME)` with `vars`; a function call (`$(shell,...)`,
 * `$(cc-option,...)`) or an unknown name is left unresolved and named in `unresolved`. Recursive
 * (`=`) values are expanded where they are used; depth and length are bounded.
 */
export function expandKconfig(
  text: string,
  vars: ReadonlyMap<string, string>,
  depth = 0,
): { value: string; unresolved: string[] } {
  const unresolved: string[] = [];
  if (depth > 20 || text.length > MAX_LINE) return { value: text, unresolved: ['(too deep or too long)'] };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$' || text[i + 1] !== '(') {
      out += text[i];
      continue;
    }
    // The matching parenthesis.
    let level = 0;
    let j = i + 1;
    for (; j < text.length; j++) {
      if (text[j] === '(') level++;
      else if (text[j] === ')' && --level === 0) break;
    }
    if (j >= text.length) {
      unresolved.push(text.slice(i));
      out += text.slice(i);
      break;
    }
    const inner = expandKconfig(text.slice(i + 2, j), vars, depth + 1);
    unresolved.push(...inner.unresolved);
    const value = /^[A-Za-z0-9_-]+$/.test(inner.value) ? vars.get(inner.value) : undefined;
    if (value === undefined) {
      unresolved.push(inner.value);
      out += text.slice(i, j + 1);
    } else {
      const e = expandKconfig(value, vars, depth + 1);
      unresolved.push(...e.unresolved);
      out += e.value;
    }
    i = j;
  }
  return { value: out, unresolved };
}
