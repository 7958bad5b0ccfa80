// Seeded, repeatable fuzzing of make text: mutated Makefiles and Kbuild .cmd files through the parser,
// the evaluator, the nvhe rule, both fix forms, documentSymbols/hoverAt and flagsOfCmdFile.
// Cases run in worker threads; each worker publishes the case it is on in shared memory and the main
// thread kills a worker whose case runs past `caseTimeoutMs` (a hang), records it and goes on.
// Used by test/reliability/makeFuzz.test.ts (small budget) and scripts/fuzz-make.mjs (big budget).
import { mulberry32 } from '../helpers/prng';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { profileFlagsOfCmdFile } from '../../server/src/kbuild/cmdFile';
const flagsOfCmdFile = (file: string, text: string) => profileFlagsOfCmdFile(file, text).flags;
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { hoverAt } from '../../server/src/make/hover';
import { parseMakefile } from '../../server/src/make/parser';
import { documentSymbols } from '../../server/src/make/symbols';
import { applyEdits } from '../../server/src/make/edits';
import { computeFix } from '../../server/src/rules/nvhe-profile-metadata/fixes';
import { analyzeNvhe, type RuleInput } from '../../server/src/rules/nvhe-profile-metadata/analysis';

export interface CorpusFile {
  name: string;
  text: string;
}

export interface FuzzFailure {
  case: number;
  base: string;
  mutations: string[];
  kind: 'crash' | 'hang' | 'check';
  error: string;
  /** The mutated text (for regression fixtures). */
  text: string;
}

export interface FuzzStats {
  cases: number;
  crashes: number;
  hangs: number;
  checkFailures: number;
  /** Cases where the evaluator reported hitting a bound (a diagnostic, not a failure). */
  boundHits: number;
  /** Cases where a fix form was produced (and checked). */
  fixesChecked: number;
  cmdFlags: number;
  slowestMs: number;
  slowestCase: number;
  failures: FuzzFailure[];
}

export function newStats(): FuzzStats {
  return {
    cases: 0,
    crashes: 0,
    hangs: 0,
    checkFailures: 0,
    boundHits: 0,
    fixesChecked: 0,
    cmdFlags: 0,
    slowestMs: 0,
    slowestCase: -1,
    failures: [],
  };
}

/** The seeded PRNG of every fuzzer (re-exported for the LSP fuzz and the soak script). */
export const rng = mulberry32;

const caseSeed = (seed: number, i: number): number =>
  (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

const SNIPPETS = [
  '$(',
  '$(call ',
  '${',
  '\\',
  '\\\n',
  'define X\n',
  'endef\n',
  '\0',
  ')',
  '}',
  ',',
  '#',
  '\t',
  '\r\n',
  ':=',
  '=',
  '+=',
  '?=',
  '!=',
  'ifeq (a,b)\n',
  'else\n',
  'endif\n',
  'ifdef X\n',
  '$(eval ',
  '$(foreach v,',
  '$(shell touch /tmp/kbd-fuzz-shell)',
  'X != touch /tmp/kbd-fuzz-bang\n',
  '-fprofile-sample-use=p.prof',
  '$(filter-out -fprofile-sample-use=%,',
  'gen-hyprel',
  '$(OBJCOPY) -R .llvm.call-graph-profile $<; ',
  'savedcmd_x.o := ',
  'cmd_',
  'quiet_cmd_hyprel = HYPREL $@\n',
  '$@',
  '$<',
  '$$',
  '%',
  ':',
  '::',
  '|',
  ';',
  '\u00e9',
  '\ud83d\ude00',
  '\ud800',
];

/** Lines whose expansion grows exponentially or recurses: the evaluator must stop at its bounds. */
const BLOWUPS = [
  'X = $(X)\n$(info $(X))\n',
  'X = a $(X) b\nY := $(X)\n',
  'A = $(B)\nB = $(A)\nKBUILD_CFLAGS += $(A)\n',
  'f = $(call f,$(1)$(1))\nY := $(call f,x)\n',
  'g = $(call g,$(1))\n$(eval $(call g,1))\n',
  'L0 := x x\nL1 := $(foreach a,$(L0),$(foreach b,$(L0),$(foreach c,$(L0),$(L0))))\nL2 := $(foreach a,$(L1),$(foreach b,$(L1),$(L1)))\nL3 := $(foreach a,$(L2),$(L2))\n',
  'W := $(foreach i,1 2 3 4 5 6 7 8 9 10,$(foreach j,1 2 3 4 5 6 7 8 9 10,$(foreach k,1 2 3 4 5 6 7 8 9 10,$(foreach l,1 2 3 4 5 6 7 8 9 10,$(foreach m,1 2 3 4 5 6 7 8 9 10,$(i)$(j)$(k)$(l)$(m))))))\n',
  'D := x\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\nD := $(D) $(D)\n',
  'e = $(eval e2 = $$(e))$(e2)\nZ := $(e)\n',
  'KBUILD_CFLAGS := $(filter-out $(KBUILD_CFLAGS),$(KBUILD_CFLAGS) $(KBUILD_CFLAGS))\nKBUILD_CFLAGS = $(KBUILD_CFLAGS) -O2\n',
  'define R\n$(eval $(R))\nendef\n$(eval $(R))\n',
  `${'$('.repeat(5000)}\n`,
  `${'$(call f,'.repeat(2000)}x${')'.repeat(2000)}\n`,
  `${'ifeq (a,a)\n'.repeat(3000)}`,
  `${'define X\n'.repeat(2000)}`,
];

export interface Mutation {
  name: string;
  /** Relative frequency (the expensive ones are rarer, so a budget covers more cases). */
  weight?: number;
  apply(text: string, r: () => number): string;
}

const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];
const lineStarts = (t: string): number[] => {
  const s = [0];
  for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10) s.push(i + 1);
  return s;
};
function lineRange(t: string, r: () => number): [number, number] {
  const s = lineStarts(t);
  const l = Math.floor(r() * s.length);
  return [s[l], l + 1 < s.length ? s[l + 1] : t.length];
}

export const MUTATIONS: Mutation[] = [
  {
    name: 'byte-flip',
    apply: (t, r) => {
      if (t.length === 0) return t;
      const i = Math.floor(r() * t.length);
      return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << Math.floor(r() * 7))) + t.slice(i + 1);
    },
  },
  {
    name: 'byte-set',
    apply: (t, r) => {
      const i = Math.floor(r() * (t.length + 1));
      return t.slice(0, i) + String.fromCharCode(Math.floor(r() * 256)) + t.slice(i + 1);
    },
  },
  {
    name: 'delete-line',
    apply: (t, r) => {
      const [a, b] = lineRange(t, r);
      return t.slice(0, a) + t.slice(b);
    },
  },
  {
    name: 'delete-lines',
    apply: (t, r) => {
      const [a] = lineRange(t, r);
      const n = 1 + Math.floor(r() * 20);
      let b = a;
      for (let k = 0; k < n && b < t.length; k++) {
        const nl = t.indexOf('\n', b);
        b = nl < 0 ? t.length : nl + 1;
      }
      return t.slice(0, a) + t.slice(b);
    },
  },
  {
    name: 'duplicate-line',
    apply: (t, r) => {
      const [a, b] = lineRange(t, r);
      const times = 1 + Math.floor(r() * 4);
      return t.slice(0, b) + t.slice(a, b).repeat(times) + t.slice(b);
    },
  },
  {
    name: 'swap-lines',
    apply: (t, r) => {
      const [a, b] = lineRange(t, r);
      const [c, d] = lineRange(t, r);
      if (a === c) return t;
      const [x, y] =
        a < c
          ? [
              [a, b],
              [c, d],
            ]
          : [
              [c, d],
              [a, b],
            ];
      if (x[1] > y[0]) return t;
      return t.slice(0, x[0]) + t.slice(y[0], y[1]) + t.slice(x[1], y[0]) + t.slice(x[0], x[1]) + t.slice(y[1]);
    },
  },
  {
    name: 'insert-snippet',
    apply: (t, r) => {
      const i = Math.floor(r() * (t.length + 1));
      return t.slice(0, i) + pick(SNIPPETS, r) + t.slice(i);
    },
  },
  {
    name: 'insert-line-snippet',
    apply: (t, r) => {
      const [a] = lineRange(t, r);
      return t.slice(0, a) + pick(SNIPPETS, r) + '\n' + t.slice(a);
    },
  },
  {
    name: 'blowup',
    weight: 0.25,
    apply: (t, r) => {
      const [a] = lineRange(t, r);
      return t.slice(0, a) + pick(BLOWUPS, r) + t.slice(a);
    },
  },
  {
    name: 'huge-line',
    weight: 0.15,
    apply: (t, r) => {
      const [a] = lineRange(t, r);
      const unit = pick(['x', '$(X)', '-fprofile-sample-use=p ', '\\', '$$', ' ', '$(', 'a:=b'], r);
      return t.slice(0, a) + `HUGE := ${unit.repeat(50_000 + Math.floor(r() * 150_000))}\n` + t.slice(a);
    },
  },
  { name: 'crlf', apply: (t) => t.replace(/\r?\n/g, '\r\n') },
  {
    name: 'strip-eol',
    apply: (t, r) => (r() < 0.5 ? t.replace(/\n$/, '') : t.replace(/\r?\n/g, r() < 0.5 ? '\r' : ' ')),
  },
  { name: 'truncate', apply: (t, r) => t.slice(0, Math.floor(r() * t.length)) },
  {
    name: 'splice',
    apply: (t, r) => {
      const a = Math.floor(r() * (t.length + 1));
      const b = Math.floor(r() * (t.length + 1));
      const c = Math.floor(r() * (t.length + 1));
      const [lo, hi] = a < b ? [a, b] : [b, a];
      return t.slice(0, c) + t.slice(lo, Math.min(hi, lo + 4096)) + t.slice(c);
    },
  },
  { name: 'tabs-spaces', apply: (t, r) => (r() < 0.5 ? t.replace(/^\t/gm, '        ') : t.replace(/^ {2,}/gm, '\t')) },
];

const TOTAL_WEIGHT = MUTATIONS.reduce((a, m) => a + (m.weight ?? 1), 0);

const LDS = `SECTIONS {\n\tHYP_SECTION(.idmap.text)\n\tHYP_SECTION(.text)\n\tHYP_SECTION(.data..ro_after_init)\n\tHYP_SECTION(.rodata)\n}\n`;

/** True when `small` is a subsequence of `big` (by UTF-16 code units). */
function isSubsequence(small: string, big: string): boolean {
  let j = 0;
  for (let i = 0; i < big.length && j < small.length; i++) if (big.charCodeAt(i) === small.charCodeAt(j)) j++;
  return j === small.length;
}

/** Every way a piece of make text enters the product. Throws on any failed check. */
export function exercise(
  name: string,
  text: string,
  r: () => number,
  stats: Pick<FuzzStats, 'boundHits' | 'fixesChecked' | 'cmdFlags'>,
): void {
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf);
  if (ev.diagnostics.some((d) => /limit|too deep|too long|recurs|steps/i.test(d.message))) stats.boundHits++;
  let n = 0;
  for (const v of ev.variables.keys()) {
    if (n++ > 8) break;
    ev.expand(`$(${v})`);
  }
  documentSymbols(mf);
  const lines = text.split('\n');
  for (let k = 0; k < 3; k++) {
    const line = Math.floor(r() * lines.length);
    hoverAt(mf, ev, { line, character: Math.floor(r() * ((lines[line]?.length ?? 0) + 2)) });
  }
  const input: RuleInput = {
    makefile: mf,
    objDir: 'arch/arm64/kvm/hyp/nvhe',
    readSibling: (n2) => (n2 === 'hyp.lds.S' ? LDS : undefined),
  };
  analyzeNvhe(input, (l) => lines[l]?.length ?? 0);
  for (const form of ['A', 'B'] as const) {
    const fix = computeFix(text, input, form);
    if (!fix) continue;
    stats.fixesChecked++;
    for (const e of fix.edits) {
      if (e.range.start.line !== e.range.end.line || e.range.start.character !== e.range.end.character)
        throw new Error(`form ${form}: an edit replaces text (${JSON.stringify(e.range)})`);
    }
    if (applyEdits(text, fix.edits) !== fix.newText)
      throw new Error(`form ${form}: newText differs from the edits applied`);
    if (!isSubsequence(text, fix.newText)) throw new Error(`form ${form}: the fixed text lost original content`);
    const before = text.split(/\r?\n/);
    const after = fix.newText.split(/\r?\n/);
    let j = 0;
    for (const l of after) if (j < before.length && isSubsequence(before[j], l)) j++;
    if (j < before.length) throw new Error(`form ${form}: original line ${j + 1} is missing from the fixed text`);
    const allCrlf = text.includes('\r\n') && !/(^|[^\r])\n/.test(text);
    if (allCrlf && /(^|[^\r])\n/.test(fix.newText)) throw new Error(`form ${form}: a CRLF file got a bare LF`);
    parseMakefile(fix.newText);
  }
  if (name.endsWith('.cmd') || r() < 0.3) stats.cmdFlags += flagsOfCmdFile(name, text).length;
}

/** The text of case `i`: a corpus file and 1-4 mutations, all from the seed. */
export function makeCase(
  corpus: CorpusFile[],
  seed: number,
  i: number,
): { base: string; mutations: string[]; text: string; r: () => number } {
  const r = rng(caseSeed(seed, i));
  const base = corpus[Math.floor(r() * corpus.length)];
  let text = base.text;
  const mutations: string[] = [];
  const count = 1 + Math.floor(r() * 4);
  for (let k = 0; k < count; k++) {
    let x = r() * TOTAL_WEIGHT;
    let m = MUTATIONS[0];
    for (const cand of MUTATIONS) {
      m = cand;
      x -= cand.weight ?? 1;
      if (x < 0) break;
    }
    mutations.push(m.name);
    text = m.apply(text, r);
  }
  return { base: base.name, mutations, text, r };
}

function runOne(corpus: CorpusFile[], seed: number, i: number, stats: FuzzStats): void {
  const c = makeCase(corpus, seed, i);
  const t0 = performance.now();
  try {
    exercise(c.base, c.text, c.r, stats);
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    const check = e instanceof Error && /^form [AB]:/.test(e.message);
    if (check) stats.checkFailures++;
    else stats.crashes++;
    stats.failures.push({
      case: i,
      base: c.base,
      mutations: c.mutations,
      kind: check ? 'check' : 'crash',
      error: msg.split('\n').slice(0, 6).join('\n'),
      text: c.text.length > 2_000_000 ? c.text.slice(0, 2_000_000) : c.text,
    });
  }
  const ms = performance.now() - t0;
  if (ms > stats.slowestMs) {
    stats.slowestMs = ms;
    stats.slowestCase = i;
  }
  stats.cases++;
}

type WorkerMessage = { type: 'failure'; failure: FuzzFailure } | { type: 'done'; stats: FuzzStats };

interface WorkerJob {
  kbdMakeFuzz: true;
  corpus: CorpusFile[];
  seed: number;
  from: number;
  to: number;
  /** [0]: index of the case running now; [1]: set to 1 when the worker is done. */
  progress: SharedArrayBuffer;
}

// Worker side: run the assigned range, publish progress, post the stats at the end.
if (!isMainThread && parentPort && (workerData as Partial<WorkerJob> | undefined)?.kbdMakeFuzz) {
  const job = workerData as WorkerJob;
  const progress = new Int32Array(job.progress);
  const stats = newStats();
  for (let i = job.from; i < job.to; i++) {
    Atomics.store(progress, 0, i);
    runOne(job.corpus, job.seed, i, stats);
    // Failures go out at once, so a worker killed later for a hang loses none.
    for (const f of stats.failures) parentPort.postMessage({ type: 'failure', failure: f } satisfies WorkerMessage);
    stats.failures = [];
  }
  parentPort.postMessage({ type: 'done', stats: { ...stats, crashes: 0, checkFailures: 0 } } satisfies WorkerMessage);
}

export interface FuzzRun {
  corpus: CorpusFile[];
  cases: number;
  seed: number;
  /** The bundled file that holds this module (a worker re-runs it). */
  workerFile: string;
  workers?: number;
  /** A case running longer than this is a hang. */
  caseTimeoutMs?: number;
  /** Optional: stop starting new work after this many ms (the cases run are counted). */
  budgetMs?: number;
  onProgress?: (done: number) => void;
}

function merge(into: FuzzStats, s: FuzzStats): void {
  into.cases += s.cases;
  into.crashes += s.crashes;
  into.hangs += s.hangs;
  into.checkFailures += s.checkFailures;
  into.boundHits += s.boundHits;
  into.fixesChecked += s.fixesChecked;
  into.cmdFlags += s.cmdFlags;
  if (s.slowestMs > into.slowestMs) {
    into.slowestMs = s.slowestMs;
    into.slowestCase = s.slowestCase;
  }
  into.failures.push(...s.failures);
}

/** Runs cases [0, cases) in chunks over worker threads, with a watchdog per case. */
export async function runFuzz(opts: FuzzRun): Promise<FuzzStats> {
  const total = newStats();
  const timeout = opts.caseTimeoutMs ?? 10_000;
  const chunk = 500;
  const t0 = Date.now();
  let next = 0;
  const takeChunk = (): [number, number] | undefined => {
    if (next >= opts.cases) return undefined;
    if (opts.budgetMs !== undefined && Date.now() - t0 > opts.budgetMs) return undefined;
    const from = next;
    next = Math.min(opts.cases, next + chunk);
    return [from, next];
  };
  const runRange = (from: number, to: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const progress = new SharedArrayBuffer(8);
      const view = new Int32Array(progress);
      Atomics.store(view, 0, from);
      const job: WorkerJob = { kbdMakeFuzz: true, corpus: opts.corpus, seed: opts.seed, from, to, progress };
      const w = new Worker(opts.workerFile, {
        workerData: job, // The server runs on the main thread (~1 MB of stack): workers get the same, so deep recursion shows.
        resourceLimits: { maxOldGenerationSizeMb: 1536, stackSizeMb: 1 },
      });
      let last = from;
      let since = Date.now();
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        resolve();
      };
      const watch = setInterval(
        () => {
          const cur = Atomics.load(view, 0);
          if (cur !== last) {
            last = cur;
            since = Date.now();
            return;
          }
          if (Date.now() - since > timeout) {
            // A hang: record it, kill the worker, go on after it.
            const c = makeCase(opts.corpus, opts.seed, cur);
            total.hangs++;
            total.cases += cur - from + 1;
            total.failures.push({
              case: cur,
              base: c.base,
              mutations: c.mutations,
              kind: 'hang',
              error: `no result within ${timeout} ms`,
              text: c.text,
            });
            finish();
            void w.terminate();
            if (cur + 1 < to) pending.push(runRange(cur + 1, to));
          }
        },
        Math.min(250, timeout / 4),
      );
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'failure') {
          if (m.failure.kind === 'check') total.checkFailures++;
          else total.crashes++;
          if (total.failures.length < 100) total.failures.push(m.failure);
          return;
        }
        merge(total, m.stats);
        opts.onProgress?.(total.cases);
      });
      w.on('error', (e) => {
        // The worker itself died (out of memory, ...): a crash of the current case.
        if (settled) return;
        const cur = Atomics.load(view, 0);
        const c = makeCase(opts.corpus, opts.seed, cur);
        total.crashes++;
        total.cases += cur - from + 1;
        total.failures.push({
          case: cur,
          base: c.base,
          mutations: c.mutations,
          kind: 'crash',
          error: `worker died: ${e.message}`,
          text: c.text,
        });
        finish();
        if (cur + 1 < to) pending.push(runRange(cur + 1, to));
      });
      w.on('exit', finish);
    });
  const pending: Promise<void>[] = [];
  const lane = async (): Promise<void> => {
    for (let c = takeChunk(); c; c = takeChunk()) await runRange(c[0], c[1]);
  };
  await Promise.all(Array.from({ length: opts.workers ?? 2 }, lane));
  while (pending.length > 0) await pending.shift();
  return total;
}

function walk(dir: string, accept: (p: string) => boolean, out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory() && !n.startsWith('.') ? true : false) {
      if (n !== 'source') walk(p, accept, out);
    } else if (st.isFile() && accept(p)) out.push(p);
  }
  return out;
}

const LINUX_FILES = [
  'arch/arm64/kvm/hyp/nvhe/Makefile',
  'arch/arm64/kvm/hyp/Makefile',
  'arch/arm64/kvm/Makefile',
  'arch/arm64/Makefile',
  'scripts/Kbuild.include',
  'scripts/Makefile.build',
  'scripts/Makefile.lib',
  'scripts/Makefile.compiler',
  'scripts/Makefile.clang',
  'scripts/Makefile.extrawarn',
  'arch/arm64/kernel/vdso/Makefile',
  'drivers/gpu/drm/amd/display/dc/dml/Makefile',
];

/** Real make text: the nvhe variants, the sample tree (Makefiles and .cmd files), and Linux files when a tree is given. */
export function loadCorpus(repoRoot: string, linuxTree?: string): CorpusFile[] {
  const out: CorpusFile[] = [];
  const add = (p: string, name: string): void => {
    const text = readFileSync(p, 'utf8');
    if (text.length <= 400_000) out.push({ name, text });
  };
  const fx = join(repoRoot, 'test', 'fixtures');
  for (const p of walk(join(fx, 'nvhe-variants'), (f) => f.endsWith('/Makefile'))) add(p, p.slice(fx.length + 1));
  for (const p of walk(join(fx, 'sample-kernel'), (f) =>
    /\/(Makefile|Kbuild|Kbuild\.include)$|\/\.[^/]+\.cmd$/.test(f),
  ))
    add(p, p.slice(fx.length + 1));
  for (const p of walk(join(fx, 'regressions'), (f) => /\.(mk|cmd)$/.test(f))) add(p, p.slice(fx.length + 1));
  if (linuxTree)
    for (const f of LINUX_FILES) {
      try {
        add(join(linuxTree, f), `linux-6.1/${f}`);
      } catch {
        // not in this tree
      }
    }
  return out;
}
