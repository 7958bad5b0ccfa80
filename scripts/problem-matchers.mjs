// The problem matchers package.json contributes for Kbuild output ($kbuild and $kbuild-objects),
// composed here from one readable description per line form, and written into package.json.
//
//   node scripts/problem-matchers.mjs          write contributes.problemPatterns / problemMatchers
//   node scripts/problem-matchers.mjs --check  exit 1 when package.json differs from what this composes
//
// Why composed: a VS Code problem pattern is one regular expression whose capture groups are fixed
// indices (file = group 1, line = group 2, ...), and a matcher has one pattern. Kbuild prints its
// problems in several forms whose parts come in different orders (clang: file:line:col: severity;
// ld.lld: severity: file:(section); make: *** [file:line: target]). JavaScript has no branch reset,
// so each property is captured once, by a lookahead that scans the line for any form's value, each
// alternative pinned to its form by a lookbehind from the line start and a lookahead to its end:
//   ^(?=(?:FORM1|FORM2|...)$)(?=.*?(FILE1|FILE2|...))(?=(?:.*?(LINE1|LINE3))?)...
// Lines of no form fail at the first lookahead, so the scan costs nothing on the rest of the log.
//
// Why two matchers: VS Code makes a problem only when the pattern yields a location; a pattern of
// kind "location" with no line yields none, and `kind` is one per pattern (problemMatcher.ts,
// AbstractLineMatcher.getLocation). Lines with a line number ($kbuild) and lines that name only an
// object or module ($kbuild-objects, kind "file") therefore need a matcher each.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const PATH = '[^\\s:\'"()<>\\[\\]]+';
const TOOL_LD = 'ld\\.lld(?:-\\d+)?';

// A form is a list of parts: a string (a regular expression, no capturing groups), a property
// { p, re }, a property spanning parts { p, seq }, or an optional run { opt: [...] }.
const p = (name, re) => ({ p: name, re });
const seq = (name, ...parts) => ({ p: name, seq: parts });
const opt = (...parts) => ({ opt: parts });

/** file:line[:col]: [fatal ]error|warning|note: message — clang, gcc, and make's own warnings. */
const compiler = [
  p('file', PATH),
  ':',
  p('line', '\\d+'),
  opt(':', p('column', '\\d+')),
  ': (?:fatal )?',
  p('severity', 'error|warning|note'),
  ': ',
  p('message', '.*'),
];

/**
 * make[N]: *** [Makefile:line: target] Error N — the recipe of that Makefile line failed. `Error 2`
 * is left out: make exits with 2 when a sub-make fails, so that line only repeats, one level up,
 * a failure whose own line is reported already.
 */
const makeRecipe = [
  seq(
    'message',
    'make(?:\\[\\d+\\])?: \\*\\*\\* \\[',
    p('file', '[^\\s:\\]]+'),
    ':',
    p('line', '\\d+'),
    ': [^\\]]+\\] Error (?!2$)\\d+',
  ),
];

/** ld.lld: error|warning: script:line: message — a linker script the link could not read. */
const linkerScript = [
  `${TOOL_LD}: `,
  p('severity', 'error|warning'),
  ': ',
  seq('message', p('file', PATH), ':', p('line', '\\d+'), ': .*'),
];

/**
 * [ld.lld: ]error|warning: object:(section) message / object: message — ld.lld on an input
 * object (archive members print as lib.a(member.o)); without the tool name, gen-hyprel.
 */
const objectTool = [
  `(?:${TOOL_LD}: )?`,
  p('severity', 'error|warning'),
  ': ',
  seq('message', p('file', PATH), '(?:\\([^)\\s]*\\))?(?::\\(|: ).*'),
];

/** ERROR|WARNING: modpost: module: message (section mismatches, symbols exported twice). */
const modpostLeading = [p('severity', 'ERROR|WARNING'), ': modpost: ', seq('message', p('file', PATH), ': .*')];
/** ERROR|WARNING: modpost: "symbol" [module.ko] undefined! and the other lines naming [module]. */
const modpostBracket = [
  p('severity', 'ERROR|WARNING'),
  ': modpost: ',
  seq('message', '[^\\[:]*\\[', p('file', '[^\\]\\s]+'), '\\].*'),
];
/** ERROR|WARNING: modpost: missing MODULE_LICENSE() in module.o (lines ending in the object). */
const modpostTrailing = [p('severity', 'ERROR|WARNING'), ': modpost: ', seq('message', '[^:]* in ', p('file', PATH))];

const PROPS = ['file', 'line', 'column', 'severity', 'message'];

/** The part list as one expression with no capturing group; `open` = the run holding the target is required. */
function plain(parts) {
  return parts
    .map((x) => {
      if (typeof x === 'string') return x;
      if ('opt' in x) return `(?:${plain(x.opt)})?`;
      return x.seq ? `(?:${plain(x.seq)})` : `(?:${x.re})`;
    })
    .join('');
}

/** Before / value / after of property `name` in a form, or undefined when the form has none. */
function contexts(parts, name) {
  for (let i = 0; i < parts.length; i++) {
    const x = parts[i];
    if (typeof x === 'string') continue;
    const before = plain(parts.slice(0, i));
    const after = plain(parts.slice(i + 1));
    if (!('opt' in x) && x.p === name) return { before, value: x.seq ? plain(x.seq) : x.re, after };
    const inner = 'opt' in x ? x.opt : x.seq;
    if (!inner) continue;
    const c = contexts(inner, name);
    if (c) return { before: before + c.before, value: c.value, after: c.after + after };
  }
  return undefined;
}

/** One regular expression for all forms, its groups in PROPS order (only the properties some form has). */
function compose(forms) {
  const groups = {};
  let src = `^(?=(?:${forms.map((f) => plain(f)).join('|')})$)`;
  let n = 0;
  for (const name of PROPS) {
    const alts = forms.map((f) => contexts(f, name)).filter(Boolean);
    if (alts.length === 0) continue;
    const alt = alts.map((c) => `(?<=^${c.before})(?:${c.value})(?=${c.after}$)`).join('|');
    src += alts.length === forms.length ? `(?=.*?(${alt}))` : `(?=(?:.*?(${alt}))?)`;
    groups[name === 'column' ? 'column' : name] = ++n;
  }
  const count = new RegExp(`${src}|`).exec('').length - 1;
  if (count !== n) throw new Error(`composed ${count} groups, expected ${n}`);
  return { regexp: src, ...groups };
}

export function contributions() {
  const location = { name: 'kbuild', ...compose([compiler, makeRecipe, linkerScript]) };
  const objects = {
    name: 'kbuild-objects',
    kind: 'file',
    ...compose([objectTool, modpostLeading, modpostBracket, modpostTrailing]),
  };
  delete objects.line;
  // The build directory: relative paths are relative to it (O=, or the tree itself), `../` paths
  // lead into the source tree from it, absolute paths stay. See docs/problem-matchers.md.
  const fileLocation = ['autoDetect', '${command:kbuildDiagnostics.buildDirectoryForTasks}'];
  return {
    problemPatterns: [location, objects],
    problemMatchers: [
      {
        name: 'kbuild',
        label: 'Kbuild: compiler, linker script and make errors',
        owner: 'kbuild',
        source: 'kbuild',
        applyTo: 'allDocuments',
        fileLocation,
        pattern: '$kbuild',
      },
      {
        name: 'kbuild-objects',
        label: 'Kbuild: ld.lld, gen-hyprel and modpost errors on objects',
        owner: 'kbuild',
        source: 'kbuild',
        applyTo: 'allDocuments',
        fileLocation,
        pattern: '$kbuild-objects',
      },
    ],
  };
}

const here = fileURLToPath(new URL('.', import.meta.url));
const pkgPath = join(here, '..', 'package.json');
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const want = contributions();
  if (process.argv.includes('--check')) {
    const same = ['problemPatterns', 'problemMatchers'].every(
      (k) => JSON.stringify(pkg.contributes[k]) === JSON.stringify(want[k]),
    );
    if (!same) {
      console.error('problem-matchers.mjs: package.json differs; run node scripts/problem-matchers.mjs');
      process.exit(1);
    }
  } else {
    pkg.contributes.problemPatterns = want.problemPatterns;
    pkg.contributes.problemMatchers = want.problemMatchers;
    writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}
