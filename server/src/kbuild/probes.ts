// Kbuild's probe functions (scripts/Makefile.compiler, scripts/Kbuild.include) evaluated by what they
// mean, running nothing. Kbuild defines them with try-run or $(shell ...): make runs the compiler (or
// a shell test) when it expands them. Here `$(call cc-option,X,Y)` is X when the build's compiler
// accepts X (compilerOptions.ts, with the toolchain the build records: toolchain.ts) and Y otherwise;
// the version tests compare the configuration's versions. A question the table cannot answer is
// recorded with both of its outcomes and answered by the session's assumption, so a caller can
// evaluate each outcome and see whether its verdict depends on it.
//
// A probe is recognised by name as Kbuild defines it, and only while the variable's definition is
// such a probe (it runs a shell, calls try-run or another probe) or is not defined at all: a Makefile
// that defines its own `cc-option` differently gets its own definition expanded.
import type { CallHook } from '../make/evaluator';
import { splitWords } from '../make/values';
import { compilerAccepts } from './compilerOptions';
import type { Toolchain } from './toolchain';

/** One probe whose answer the build's records do not give. */
export interface ProbeQuestion {
  /** Stable identity: the probe and what it asks about. */
  key: string;
  /** The probe function (`cc-option`, `try-run`, ...). */
  probe: string;
  /** What it asks about: the option, the instruction, the version test or the command. */
  subject: string;
  /** What the call expands to when the answer is yes, and when it is no. */
  ifYes: string;
  ifNo: string;
}

export interface ProbeSession {
  toolchain: Toolchain;
  /** The answer taken for a question the build does not answer (by key; `fallback` when absent). */
  assumptions: ReadonlyMap<string, boolean>;
  fallback: boolean;
  /** The questions met, by key (filled while the evaluation expands). */
  asked: Map<string, ProbeQuestion>;
}

export function probeSession(
  toolchain: Toolchain,
  assumptions: ReadonlyMap<string, boolean> = new Map(),
  fallback = true,
): ProbeSession {
  return { toolchain, assumptions, fallback, asked: new Map() };
}

/** A definition that makes make run something (a shell, try-run, or another probe built on them). */
const PROBE_BODY =
  /\$[({](?:shell\s|call\s+(?:try-run|__cc-option|__rustc-option|cc-option|rustc-option|test-ge|test-gt|as-instr)\b)/;

function isProbeDefinition(definition: string | undefined): boolean {
  return definition === undefined || PROBE_BODY.test(definition);
}

const strip = (s: string | undefined): string => splitWords(s ?? '').join(' ');

/** Answer for a question: the build's, else the session's assumption (and the question is recorded). */
function decide(s: ProbeSession, known: boolean | undefined, q: Omit<ProbeQuestion, 'key'>): string {
  if (known !== undefined) return known ? q.ifYes : q.ifNo;
  const key = `${q.probe}\0${q.subject}`;
  if (!s.asked.has(key)) s.asked.set(key, { key, ...q });
  return (s.assumptions.get(key) ?? s.fallback) ? q.ifYes : q.ifNo;
}

/** Does the compiler accept every word of `option` (cc-option passes one or several)? */
function acceptsAll(t: Toolchain, option: string): boolean | undefined {
  let all: boolean | undefined = true;
  for (const w of splitWords(option)) {
    const a = compilerAccepts(t, w);
    if (a === false) return false;
    if (a === undefined) all = undefined;
  }
  return all;
}

/** A shell-style numeric test `[ A OP B ]` on two versions (undefined when one is unknown). */
function compareVersions(a: number | undefined, op: string, b: number): boolean | undefined {
  if (a === undefined || Number.isNaN(b)) return undefined;
  switch (op) {
    case '-lt':
      return a < b;
    case '-le':
      return a <= b;
    case '-gt':
      return a > b;
    case '-ge':
      return a >= b;
    case '-eq':
      return a === b;
    case '-ne':
      return a !== b;
    default:
      return undefined;
  }
}

type Probe = (s: ProbeSession, args: readonly string[]) => string;

/** `$(call NAME-min-version, V)`: y when the configuration's version of that tool is at least V. */
function minVersion(probe: string, version: (t: Toolchain) => number | undefined): Probe {
  return (s, args) =>
    decide(s, compareVersions(version(s.toolchain), '-ge', Number(strip(args[0]))), {
      probe,
      subject: strip(args[0]),
      ifYes: 'y',
      ifNo: '',
    });
}

/** A probe whose answer the build's records never give (the assembler, the linker, rustc): a question. */
function alwaysAsked(probe: string, yes: number, no: number): Probe {
  return (s, args) =>
    decide(s, undefined, { probe, subject: strip(args[0]), ifYes: strip(args[yes]), ifNo: strip(args[no]) });
}

const clangVersion = (t: Toolchain) =>
  t.compiler === 'clang' ? t.compilerVersion : t.compiler === 'gcc' ? 0 : undefined;
const gccVersion = (t: Toolchain) =>
  t.compiler === 'gcc' ? t.compilerVersion : t.compiler === 'clang' ? 0 : undefined;

/** Kbuild's probes by name (scripts/Makefile.compiler of Linux 5.x to 6.12 and older Kbuild.include). */
const PROBES: ReadonlyMap<string, Probe> = new Map<string, Probe>([
  [
    'cc-option',
    (s, a) =>
      decide(s, acceptsAll(s.toolchain, strip(a[0])), {
        probe: 'cc-option',
        subject: strip(a[0]),
        ifYes: strip(a[0]),
        ifNo: strip(a[1]),
      }),
  ],
  [
    'cc-option-yn',
    (s, a) =>
      decide(s, acceptsAll(s.toolchain, strip(a[0])), {
        probe: 'cc-option',
        subject: strip(a[0]),
        ifYes: 'y',
        ifNo: 'n',
      }),
  ],
  // -W<name> is probed; the result is -Wno-<name> (a warning the table does not know: a question).
  [
    'cc-disable-warning',
    (s, a) =>
      decide(s, acceptsAll(s.toolchain, `-W${strip(a[0])}`), {
        probe: 'cc-option',
        subject: `-W${strip(a[0])}`,
        ifYes: `-Wno-${strip(a[0])}`,
        ifNo: '',
      }),
  ],
  ['as-option', alwaysAsked('as-option', 0, 1)],
  ['as-instr', alwaysAsked('as-instr', 1, 2)],
  ['ld-option', alwaysAsked('ld-option', 0, 1)],
  ['rustc-option', alwaysAsked('rustc-option', 0, 1)],
  [
    'rustc-option-yn',
    (s, a) => decide(s, undefined, { probe: 'rustc-option', subject: strip(a[0]), ifYes: 'y', ifNo: 'n' }),
  ],
  ['clang-min-version', minVersion('clang-min-version', clangVersion)],
  ['gcc-min-version', minVersion('gcc-min-version', gccVersion)],
  // Older Kbuild.include: `$(call cc-ifversion, -ge, 0900, X, Y)` compares GCC's version (4 digits MMmm).
  [
    'cc-ifversion',
    (s, a) => {
      const gcc = gccVersion(s.toolchain);
      const known = compareVersions(
        gcc === undefined ? undefined : Math.floor(gcc / 100),
        strip(a[0]),
        Number(strip(a[1])),
      );
      return decide(s, known, {
        probe: 'cc-ifversion',
        subject: `${strip(a[0])} ${strip(a[1])}`,
        ifYes: strip(a[2]),
        ifNo: strip(a[3]),
      });
    },
  ],
  // The generic probe: whether a command succeeds is never known without running it.
  [
    'try-run',
    (s, a) => decide(s, undefined, { probe: 'try-run', subject: strip(a[0]), ifYes: strip(a[1]), ifNo: strip(a[2]) }),
  ],
]);

/** The evaluator hooks for a session: each probe answers only while its variable is a probe. */
export function probeHooks(session: ProbeSession): ReadonlyMap<string, CallHook> {
  const hooks = new Map<string, CallHook>();
  for (const [name, probe] of PROBES)
    hooks.set(name, (args, definition) => (isProbeDefinition(definition) ? probe(session, args) : undefined));
  return hooks;
}
