// Glob matching as ld.lld's StringMatcher does it for file and section patterns: `*`, `?`,
// `[...]` (with `!` or `^` to negate, ranges), and `\` escaping the next character.
// Iterative with one backtrack point per `*`: linear-ish, never exponential on hostile patterns.

/** One compiled pattern element. */
type Part =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; c: string }
  | { kind: 'class'; negate: boolean; ranges: [string, string][] };

const cache = new Map<string, Part[]>();
const CACHE_MAX = 4096;

function compile(pattern: string): Part[] {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const parts: Part[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (parts.length === 0 || parts[parts.length - 1].kind !== 'star') parts.push({ kind: 'star' });
    } else if (c === '?') parts.push({ kind: 'any' });
    else if (c === '\\' && i + 1 < pattern.length) parts.push({ kind: 'char', c: pattern[++i] });
    else if (c === '[') {
      const cls = readClass(pattern, i);
      if (!cls) parts.push({ kind: 'char', c });
      else {
        parts.push(cls.part);
        i = cls.end;
      }
    } else parts.push({ kind: 'char', c });
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(pattern, parts);
  return parts;
}

function readClass(pattern: string, start: number): { part: Part; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i++;
  }
  const ranges: [string, string][] = [];
  let first = true;
  for (; i < pattern.length; i++) {
    let c = pattern[i];
    if (c === ']' && !first) return { part: { kind: 'class', negate, ranges }, end: i };
    first = false;
    if (c === '\\' && i + 1 < pattern.length) c = pattern[++i];
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      ranges.push([c, pattern[i + 2]]);
      i += 2;
    } else ranges.push([c, c]);
  }
  return undefined; // unterminated: '[' is a literal character
}

function partMatches(p: Part, c: string): boolean {
  if (p.kind === 'any') return true;
  if (p.kind === 'char') return p.c === c;
  if (p.kind === 'class') {
    const inside = p.ranges.some(([lo, hi]) => c >= lo && c <= hi);
    return inside !== p.negate;
  }
  return false;
}

/** Whether `name` matches the whole glob `pattern`. */
export function globMatch(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  const parts = compile(pattern);
  let pi = 0;
  let ni = 0;
  let starPi = -1;
  let starNi = 0;
  while (ni < name.length) {
    const p = parts[pi];
    if (p && p.kind === 'star') {
      starPi = pi++;
      starNi = ni;
    } else if (p && partMatches(p, name[ni])) {
      pi++;
      ni++;
    } else if (starPi >= 0) {
      pi = starPi + 1;
      ni = ++starNi;
    } else return false;
  }
  while (pi < parts.length && parts[pi].kind === 'star') pi++;
  return pi === parts.length;
}
