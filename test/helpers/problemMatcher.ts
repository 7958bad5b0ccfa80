// VS Code's problem matching, ported for tests: how a task's output lines become Problems, applied to
// the patterns and matchers an extension contributes in package.json. Followed line by line from
// microsoft/vscode (1.9x), src/vs/workbench/contrib/tasks/common/problemMatcher.ts:
//   ProblemPatternParser (defaults file 1 / line 2 / column 3 / message 0 for single patterns, `kind`
//   only on the first pattern, `loop` only on the last), ProblemMatcherParser.createProblemMatcher
//   (owner, source, applyTo, severity, fileLocation and its prefix), SingleLineMatcher /
//   MultiLineMatcher (handle, next, fillProblemData: the first value wins, messages of a loop are
//   appended), getLocation / createLocation, getSeverity, getResource (absolute, relative, autoDetect
//   with a stat, search with a directory walk);
// src/vs/workbench/contrib/tasks/common/problemCollectors.ts:
//   AbstractProblemCollector.tryFindMarker / tryMatchers (a line buffer as long as the longest
//   pattern, matchers tried in order, the first match wins, an active looping matcher first) and
//   recordMarker (markers of one owner and resource are kept by a key without the message);
// src/vs/workbench/contrib/tasks/browser/terminalTaskSystem.ts: _resolveMatchers (the file prefix's
//   ${...} variables resolved when the task starts).
import * as path from 'node:path';

export type Severity = 'error' | 'warning' | 'info';

export interface Pattern {
  regexp: RegExp;
  kind?: 'file' | 'location';
  file?: number;
  message?: number;
  location?: number;
  line?: number;
  character?: number;
  endLine?: number;
  endCharacter?: number;
  code?: number;
  severity?: number;
  loop?: boolean;
}

export interface Matcher {
  name?: string;
  owner: string;
  source?: string;
  applyTo: 'allDocuments' | 'openDocuments' | 'closedDocuments';
  fileLocation: 'relative' | 'absolute' | 'autoDetect' | 'search';
  filePrefix?: string | { include?: string | string[]; exclude?: string | string[] };
  pattern: Pattern | Pattern[];
  severity?: Severity;
}

interface ConfigPattern {
  name?: string;
  regexp?: string;
  kind?: string;
  file?: number;
  location?: number;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  severity?: number;
  code?: number;
  message?: number;
  loop?: boolean;
  patterns?: ConfigPattern[];
}

interface ConfigMatcher {
  name?: string;
  owner?: string;
  source?: string;
  applyTo?: string;
  severity?: string;
  fileLocation?: string | (string | { include?: string | string[]; exclude?: string | string[] })[];
  pattern?: string | ConfigPattern | ConfigPattern[];
  base?: string;
}

function fromConfig(value: ConfigPattern, setDefaults: boolean): Pattern {
  const result: Pattern = { regexp: new RegExp(value.regexp ?? '') };
  if (value.kind) result.kind = value.kind.toLowerCase() === 'file' ? 'file' : 'location';
  const copy = (to: keyof Pattern, from: keyof ConfigPattern) => {
    const v = value[from];
    if (typeof v === 'number') (result as unknown as Record<string, number>)[to] = v;
  };
  copy('file', 'file');
  copy('location', 'location');
  copy('line', 'line');
  copy('character', 'column');
  copy('endLine', 'endLine');
  copy('endCharacter', 'endColumn');
  copy('severity', 'severity');
  copy('code', 'code');
  copy('message', 'message');
  if (value.loop === true || value.loop === false) result.loop = value.loop;
  if (setDefaults) {
    // Objects.mixin(result, defaults, false): only what the pattern does not say.
    const defaults: Partial<Pattern> =
      result.location || result.kind === 'file'
        ? { file: 1, message: 0 }
        : { file: 1, line: 2, character: 3, message: 0 };
    for (const [k, v] of Object.entries(defaults))
      if ((result as unknown as Record<string, unknown>)[k] === undefined)
        (result as unknown as Record<string, unknown>)[k] = v;
  }
  return result;
}

/** validateProblemPattern: a file and a message somewhere; a location kind needs a line or location. */
function validate(patterns: Pattern[]): void {
  const has = (k: keyof Pattern) => patterns.some((p) => p[k] !== undefined);
  if (!has('file') || !has('message')) throw new Error('The problem pattern is invalid: no file or no message group.');
  if ((patterns[0].kind ?? 'location') === 'location' && !has('location') && !has('line'))
    throw new Error('The problem pattern is invalid: kind location without a line or location group.');
}

/** The named patterns of contributes.problemPatterns (single and multi-line), as VS Code registers them. */
export function parsePatterns(contributed: ConfigPattern[]): Map<string, Pattern | Pattern[]> {
  const out = new Map<string, Pattern | Pattern[]>();
  for (const c of contributed) {
    if (!c.name) continue;
    if (Array.isArray(c.patterns)) {
      const list = c.patterns.map((p) => fromConfig(p, false));
      list.forEach((p, i) => {
        if (i < list.length - 1 && p.loop) p.loop = false;
      });
      if (list[0].kind === undefined) list[0].kind = 'location';
      validate(list);
      out.set(c.name, list);
    } else {
      const p = fromConfig(c, true);
      if (p.kind === undefined) p.kind = 'location';
      validate([p]);
      out.set(c.name, p);
    }
  }
  return out;
}

function severityFromValue(value: string | undefined): Severity | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (v === 'error') return 'error';
  if (v === 'warning' || v === 'warn') return 'warning';
  if (v === 'info') return 'info';
  return undefined;
}

/** ProblemMatcherParser.createProblemMatcher for one contributed matcher (no `base`). */
export function parseMatcher(c: ConfigMatcher, patterns: Map<string, Pattern | Pattern[]>): Matcher {
  if (c.base) throw new Error('base matchers are not ported (none is contributed)');
  let fileLocation: Matcher['fileLocation'] | undefined;
  let filePrefix: Matcher['filePrefix'];
  const kindOf = (v: unknown) => {
    const s = typeof v === 'string' ? v.toLowerCase() : '';
    return s === 'absolute' || s === 'relative' || s === 'search'
      ? s
      : s === 'autodetect'
        ? ('autoDetect' as const)
        : undefined;
  };
  if (c.fileLocation === undefined) {
    fileLocation = 'relative';
    filePrefix = '${workspaceFolder}';
  } else if (typeof c.fileLocation === 'string') {
    fileLocation = kindOf(c.fileLocation);
    if (fileLocation === 'relative' || fileLocation === 'autoDetect') filePrefix = '${workspaceFolder}';
    else if (fileLocation === 'search') filePrefix = { include: ['${workspaceFolder}'] };
  } else if (c.fileLocation.every((x) => typeof x === 'string')) {
    const values = c.fileLocation as string[];
    const kind = kindOf(values[0]);
    if (values.length === 1 && kind === 'absolute') fileLocation = kind;
    else if (values.length === 2 && (kind === 'relative' || kind === 'autoDetect') && values[1]) {
      fileLocation = kind;
      filePrefix = values[1];
    }
  } else if (kindOf(c.fileLocation[0]) === 'search') {
    fileLocation = 'search';
    filePrefix = (c.fileLocation[1] as Matcher['filePrefix']) ?? { include: ['${workspaceFolder}'] };
  }
  let pattern: Pattern | Pattern[] | undefined;
  if (typeof c.pattern === 'string') {
    if (c.pattern.length < 2 || c.pattern[0] !== '$') throw new Error(`not a pattern variable: ${c.pattern}`);
    pattern = patterns.get(c.pattern.slice(1));
  } else if (Array.isArray(c.pattern)) pattern = parsePatterns([{ name: '_', patterns: c.pattern }]).get('_');
  else if (c.pattern) pattern = parsePatterns([{ ...c.pattern, name: '_' }]).get('_');
  if (!pattern) throw new Error(`matcher ${c.name}: no valid pattern`);
  if (!fileLocation) throw new Error(`matcher ${c.name}: no file location`);
  const applyTo = (['allDocuments', 'openDocuments', 'closedDocuments'] as const).find(
    (a) => a.toLowerCase() === (c.applyTo ?? 'allDocuments').toLowerCase(),
  );
  return {
    name: c.name,
    owner: c.owner ?? 'external',
    source: c.source,
    applyTo: applyTo ?? 'allDocuments',
    fileLocation,
    filePrefix,
    pattern,
    severity: c.severity ? (severityFromValue(c.severity) ?? 'error') : undefined,
  };
}

/** The contributed matchers by name, from package.json's `contributes`. */
export function contributedMatchers(contributes: {
  problemPatterns?: ConfigPattern[];
  problemMatchers?: ConfigMatcher[];
}): Map<string, Matcher> {
  const patterns = parsePatterns(contributes.problemPatterns ?? []);
  return new Map((contributes.problemMatchers ?? []).map((m) => [m.name ?? '', parseMatcher(m, patterns)]));
}

/** terminalTaskSystem's VariableResolver on the file prefix: known ${name}s replaced, others kept. */
export function resolveMatcher(m: Matcher, variables: Record<string, string>): Matcher {
  const resolve = (s: string) => s.replace(/\$\{(.*?)\}/g, (match: string, name: string) => variables[name] ?? match);
  if (m.filePrefix === undefined) return m;
  if (typeof m.filePrefix === 'string') return { ...m, filePrefix: resolve(m.filePrefix) };
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : [v].flat().map(resolve));
  return { ...m, filePrefix: { include: list(m.filePrefix.include), exclude: list(m.filePrefix.exclude) } };
}

interface ProblemData {
  kind?: 'file' | 'location';
  file?: string;
  location?: string;
  line?: string;
  character?: string;
  endLine?: string;
  endCharacter?: string;
  message?: string;
  severity?: string;
  code?: string;
}

export interface Marker {
  severity: Severity;
  startLineNumber: number;
  startColumn: number;
  endLineNumber: number;
  endColumn: number;
  message: string;
  code?: string;
  source?: string;
}

export interface FileSystem {
  /** True when the path exists (VS Code's fileService.stat succeeds). */
  exists(p: string): boolean;
  /** Entries of a directory, for `search` (name, whether it is a directory). */
  readdir?(p: string): { name: string; directory: boolean }[];
}

export interface Problem {
  owner: string;
  /** The resolved path (URI path) the marker is on. */
  resource: string;
  marker: Marker;
  /** The output line (the last of a multi-line match) that made it. */
  line: string;
}

type Props = Exclude<keyof ProblemData, 'kind'>;

function fill(data: ProblemData, prop: Props, pattern: Pattern, m: RegExpExecArray, trim: boolean): void {
  const index = (pattern as unknown as Record<string, number | undefined>)[prop];
  if (data[prop] === undefined && index !== undefined && index < m.length) {
    let value = m[index];
    if (value !== undefined) {
      if (trim) value = value.trim();
      data[prop] = value;
    }
  }
}

function fillProblemData(data: ProblemData, pattern: Pattern, m: RegExpExecArray): void {
  fill(data, 'file', pattern, m, true);
  // appendProperty: a later pattern's message is appended on a new line.
  if (data.message === undefined) fill(data, 'message', pattern, m, true);
  else if (pattern.message !== undefined && pattern.message < m.length)
    data.message += `\n${(m[pattern.message] as string | undefined)?.trim()}`;
  fill(data, 'code', pattern, m, true);
  fill(data, 'severity', pattern, m, true);
  fill(data, 'location', pattern, m, true);
  fill(data, 'line', pattern, m, false);
  fill(data, 'character', pattern, m, false);
  fill(data, 'endLine', pattern, m, false);
  fill(data, 'endCharacter', pattern, m, false);
}

function createLocation(startLine: number, startColumn?: number, endLine?: number, endColumn?: number) {
  if (startColumn !== undefined && endColumn !== undefined)
    return { startLineNumber: startLine, startColumn, endLineNumber: endLine || startLine, endColumn };
  if (startColumn !== undefined)
    return { startLineNumber: startLine, startColumn, endLineNumber: startLine, endColumn: startColumn };
  return { startLineNumber: startLine, startColumn: 1, endLineNumber: startLine, endColumn: 2 ** 31 - 1 };
}

function getLocation(data: ProblemData) {
  if (data.kind === 'file') return createLocation(0, 0, 0, 0);
  if (data.location) {
    if (!/(\d+|\d+,\d+|\d+,\d+,\d+,\d+)/.test(data.location)) return null;
    const parts = data.location.split(',');
    const startColumn = parts.length > 1 ? parseInt(parts[1]) : undefined;
    return parts.length > 3
      ? createLocation(parseInt(parts[0]), startColumn, parseInt(parts[2]), parseInt(parts[3]))
      : createLocation(parseInt(parts[0]), startColumn);
  }
  if (!data.line) return null;
  return createLocation(
    parseInt(data.line),
    data.character ? parseInt(data.character) : undefined,
    data.endLine ? parseInt(data.endLine) : undefined,
    data.endCharacter ? parseInt(data.endCharacter) : undefined,
  );
}

function getSeverity(data: ProblemData, matcher: Matcher): Severity {
  let result = severityFromValue(data.severity);
  if (!result && data.severity) {
    const v = data.severity;
    if (v === 'E') result = 'error';
    else if (v === 'W') result = 'warning';
    else if (v === 'I' || v.toLowerCase() === 'hint' || v.toLowerCase() === 'note') result = 'info';
  }
  return result ?? matcher.severity ?? 'error';
}

/** getResource: where VS Code opens the file a problem names. */
export function getResource(filename: string, m: Matcher, fs: FileSystem): string {
  let full: string | undefined;
  if (m.fileLocation === 'absolute') full = filename;
  else if (m.fileLocation === 'relative' && typeof m.filePrefix === 'string' && m.filePrefix)
    full = path.posix.join(m.filePrefix, filename);
  else if (m.fileLocation === 'autoDetect') {
    const relative = getResource(filename, { ...m, fileLocation: 'relative' }, fs);
    if (fs.exists(relative)) return relative;
    return getResource(filename, { ...m, fileLocation: 'absolute' }, fs);
  } else if (m.fileLocation === 'search') {
    full = search(filename, m.filePrefix, fs);
    if (!full) return getResource(filename, { ...m, fileLocation: 'absolute' }, fs);
  }
  if (full === undefined) throw new Error('FileLocationKind is not actionable. Does the matcher have a filePrefix?');
  full = path.posix.normalize(full).replace(/\\/g, '/');
  return full.startsWith('/') ? full : `/${full}`;
}

function search(filename: string, prefix: Matcher['filePrefix'], fs: FileSystem): string | undefined {
  if (!prefix || typeof prefix === 'string' || !fs.readdir) return undefined;
  const excluded = new Set([prefix.exclude ?? []].flat());
  const walk = (dir: string): string | undefined => {
    if (excluded.has(dir)) return undefined;
    const subdirs: string[] = [];
    for (const e of fs.readdir?.(dir) ?? []) {
      const full = path.posix.join(dir, e.name);
      if (e.directory) subdirs.push(full);
      else if (full.endsWith(filename)) return full;
    }
    for (const d of subdirs) {
      const hit = walk(d);
      if (hit) return hit;
    }
    return undefined;
  };
  for (const dir of [prefix.include ?? []].flat()) {
    const hit = walk(dir);
    if (hit) return hit;
  }
  return undefined;
}

function markerMatch(data: ProblemData, matcher: Matcher, fs: FileSystem, line: string): Problem | undefined {
  const location = getLocation(data);
  if (!data.file || !location || !data.message) return undefined;
  const marker: Marker = { severity: getSeverity(data, matcher), ...location, message: data.message };
  if (data.code !== undefined) marker.code = data.code;
  if (matcher.source !== undefined) marker.source = matcher.source;
  return { owner: matcher.owner, resource: getResource(data.file, matcher, fs), marker, line };
}

interface LineMatcher {
  matchLength: number;
  handle(lines: string[], start: number): { match: Problem | null; continue: boolean };
  next(line: string): Problem | null;
}

function lineMatcher(matcher: Matcher, fs: FileSystem): LineMatcher {
  const patterns = Array.isArray(matcher.pattern) ? matcher.pattern : [matcher.pattern];
  const multi = Array.isArray(matcher.pattern);
  let saved: ProblemData | undefined;
  return {
    matchLength: patterns.length,
    handle(lines, start) {
      const last = patterns[patterns.length - 1];
      let data: ProblemData = Object.create(null) as ProblemData;
      if (multi) {
        saved = data;
        data.kind = patterns[0].kind;
      } else if (patterns[0].kind !== undefined) data.kind = patterns[0].kind;
      for (let i = 0; i < patterns.length; i++) {
        const m = patterns[i].regexp.exec(lines[start + i]);
        if (!m) return { match: null, continue: false };
        if (multi && patterns[i].loop && i === patterns.length - 1) data = structuredClone(data);
        fillProblemData(data, patterns[i], m);
      }
      const loop = multi && !!last.loop;
      if (multi && !loop) saved = undefined;
      const match = markerMatch(data, matcher, fs, lines[start + patterns.length - 1]) ?? null;
      return { match, continue: loop };
    },
    next(line) {
      const last = patterns[patterns.length - 1];
      const m = last.regexp.exec(line);
      if (!m || !saved) {
        saved = undefined;
        return null;
      }
      const data = structuredClone(saved);
      fillProblemData(data, last, m);
      return markerMatch(data, matcher, fs, line) ?? null;
    },
  };
}

/** IMarkerData.makeKeyOptionalMessage(marker, false): source, code, severity and range; no message. */
function markerKey(m: Marker): string {
  return [
    '',
    m.source ?? '',
    m.code ?? '',
    m.severity,
    '',
    m.startLineNumber,
    m.startColumn,
    m.endLineNumber,
    m.endColumn,
  ].join('¦');
}

/**
 * What VS Code's StartStopProblemCollector makes of a task's output with these matchers (resolved):
 * the problems in the order they were found, after the per-owner/resource de-duplication.
 */
export function collectProblems(output: string, matchers: Matcher[], fs: FileSystem): Problem[] {
  const candidates = new Map<number, LineMatcher[]>();
  let bufferLength = 1;
  for (const m of matchers) {
    const lm = lineMatcher(m, fs);
    bufferLength = Math.max(bufferLength, lm.matchLength);
    candidates.set(lm.matchLength, [...(candidates.get(lm.matchLength) ?? []), lm]);
  }
  let buffer: string[] = [];
  let active: LineMatcher | null = null;
  const found: Problem[] = [];
  const keys = new Set<string>();
  const record = (p: Problem) => {
    const key = `${p.owner}\0${p.resource}\0${markerKey(p.marker)}`;
    if (keys.has(key)) return;
    keys.add(key);
    found.push(p);
  };
  const tryMatchers = (): Problem | null => {
    active = null;
    for (let start = 0; start < buffer.length; start++) {
      for (const lm of candidates.get(buffer.length - start) ?? []) {
        const r = lm.handle(buffer, start);
        if (r.match) {
          if (r.continue) active = lm;
          return r.match;
        }
      }
    }
    return null;
  };
  // The terminal's lines: split on \n (a trailing \r dropped), as the task system's line decoder does.
  for (const line of output.split('\n').map((l) => l.replace(/\r$/, ''))) {
    if (active) {
      const r = (active as LineMatcher).next(line);
      if (r) {
        record(r);
        continue;
      }
      buffer = [];
      active = null;
    }
    if (buffer.length < bufferLength) buffer.push(line);
    else buffer = [...buffer.slice(1), line];
    const r = tryMatchers();
    if (r) {
      buffer = [];
      record(r);
    }
  }
  return found;
}
