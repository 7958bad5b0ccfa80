// The inputs of a link that a shell script of the tree runs (Linux's scripts/link-vmlinux.sh), read,
// never run. The linker command itself names the variables: `--whole-archive ${objs}
// --no-whole-archive` (every member is linked) and `--start-group ${libs} --end-group` (members are
// linked only when something uses them). Their assignments, in the function that runs the linker, are
// followed through `if ...; then / elif / else / fi` whose tests are the script's own `is_enabled
// CONFIG_X` (a grep of include/config/auto.conf for `CONFIG_X=y`), joined by `||` / `&&`, or
// `[ "${VAR}" = "word" ]` on a value make exports. Any other test is unknown: its branches are not
// taken and the reading says so.

export interface ScriptInputs {
  /** Files linked whole (objects, and archives under --whole-archive), in order. */
  whole: string[];
  /** Archives in a --start-group ... --end-group: their members are linked on demand. */
  group: string[];
  incomplete: string[];
}

const MAX_LINES = 5000;

/** Logical lines: backslash-newline joined, comments dropped. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of text.split('\n').slice(0, MAX_LINES)) {
    if (raw.endsWith('\\')) {
      cur += raw.slice(0, -1) + ' ';
      continue;
    }
    const line = (cur + raw).replace(/(^|\s)#.*$/, '');
    cur = '';
    out.push(line);
  }
  return out;
}

/** True when the script defines `is_enabled` as the test of include/config/auto.conf. */
function hasIsEnabled(text: string): boolean {
  return /is_enabled\s*\(\)\s*\{[^}]*grep\s+-q\s+"\^\$1=y"\s+include\/config\/auto\.conf/.test(text);
}

type Env = (name: string) => string | undefined;

/** `${name}` and `$name` replaced (quotes dropped); undefined when a name has no value here. */
function expand(word: string, vars: Map<string, string>, env: Env, missing: Set<string>): string {
  return word
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a: string, b: string) => {
      const name = a ?? b;
      const v = vars.get(name) ?? env(name);
      if (v === undefined) missing.add(name);
      return v ?? '';
    })
    .replace(/["']/g, '');
}

/** One test of an `if`: true, false, or undefined when this reader cannot tell. */
function testValue(
  cond: string,
  config: Record<string, string>,
  isEnabled: boolean,
  vars: Map<string, string>,
  env: Env,
): boolean | undefined {
  const parts = cond.split(/\s*(\|\||&&)\s*/);
  let acc: boolean | undefined;
  let op = '';
  for (const part of parts) {
    if (part === '||' || part === '&&') {
      op = part;
      continue;
    }
    let v: boolean | undefined;
    const en = /^is_enabled\s+(CONFIG_[A-Za-z0-9_]+)$/.exec(part.trim());
    const eq = /^\[\s+("?[^"\s]*"?)\s+(!?=)\s+("?[^"\s]*"?)\s+\]$/.exec(part.trim());
    if (en && isEnabled) v = config[en[1]] === 'y';
    else if (eq) {
      const missing = new Set<string>();
      const l = expand(eq[1], vars, env, missing);
      const r = expand(eq[3], vars, env, missing);
      v = missing.size > 0 ? undefined : (l === r) === (eq[2] === '=');
    }
    if (acc === undefined && op === '') acc = v;
    else if (op === '||') acc = acc === true || v === true ? true : acc === false && v === false ? false : undefined;
    else acc = acc === false || v === false ? false : acc === true && v === true ? true : undefined;
  }
  return acc;
}

/** The variable names between two linker options on the link's command line (`--whole-archive ${objs} --no-...`). */
function namesBetween(line: string, open: string, close: string): string[] {
  const m = new RegExp(`${open}\\s+(.*?)\\s*(?:\\$\\{wl\\}|\\$wl)?${close}`).exec(line);
  if (!m) return [];
  return [...m[1].matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)]
    .map((x) => x[1] ?? x[2])
    .filter((n) => n !== 'wl');
}

interface Frame {
  /** This branch runs: true, false, or undefined (unknown test). */
  on: boolean | undefined;
  /** A branch of this `if` ran already. */
  done: boolean;
  /** The test this reader could not tell, when there is one. */
  unknown?: string;
}

/**
 * The inputs of the first linker command of the script that links with --whole-archive, or
 * undefined when the script has none.
 */
export function linkInputsOfScript(text: string, config: Record<string, string>, env: Env): ScriptInputs | undefined {
  const lines = logicalLines(text);
  const at = lines.findIndex((l) => /--whole-archive\b/.test(l) && /--no-whole-archive\b/.test(l));
  if (at < 0) return undefined;
  const wholeNames = namesBetween(lines[at], '--whole-archive', '--no-whole-archive');
  const groupNames = namesBetween(lines[at], '--start-group', '--end-group');
  // The function that runs the linker: from its `name()` line to the link.
  let start = at;
  while (start > 0 && !/^[A-Za-z_][A-Za-z0-9_]*\s*\(\)/.test(lines[start])) start--;
  const isEnabled = hasIsEnabled(text);
  const vars = new Map<string, string>();
  const stack: Frame[] = [];
  const incomplete = new Set<string>();
  const live = () => stack.every((f) => f.on === true);
  for (const line of lines.slice(start, at)) {
    const s = line.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(if|elif)\s+(.*?);\s*then$/.exec(s))) {
      if (m[1] === 'if') stack.push({ on: undefined, done: false });
      const top = stack[stack.length - 1];
      if (!top) continue;
      const v = top.done ? false : testValue(m[2], config, isEnabled, vars, env);
      if (v === undefined) top.unknown = m[2];
      top.on = v;
      if (v === true) top.done = true;
      if (v === undefined) top.done = true;
    } else if (s === 'else') {
      const top = stack[stack.length - 1];
      if (top) top.on = top.done ? (top.on === undefined ? undefined : false) : true;
    } else if (s === 'fi') {
      stack.pop();
    } else if ((m = /^(?:local\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(s))) {
      const tracked = wholeNames.includes(m[1]) || groupNames.includes(m[1]);
      if (!live()) {
        // An input list set under a test this reader cannot tell: the inputs may differ.
        const unknown = stack.every((f) => f.on !== false) ? stack.find((f) => f.on === undefined) : undefined;
        if (tracked && unknown?.unknown) incomplete.add(`cannot tell "${unknown.unknown}", under which ${m[1]} is set`);
        continue;
      }
      const missing = new Set<string>();
      vars.set(m[1], expand(m[2], vars, env, missing).trim());
      for (const n of missing) if (tracked) incomplete.add(`$${n} has no value here`);
    }
  }
  const words = (names: string[]) =>
    names.flatMap((n) => (vars.get(n) ?? env(n) ?? '').split(/\s+/).filter((w) => w !== ''));
  return { whole: words(wholeNames), group: words(groupNames), incomplete: [...incomplete] };
}
