// Seeded make fuzzing on a fixed number of cases (the big run is `node scripts/fuzz-make.mjs`), the
// regression fixtures found by it, and the evaluator's documented bounds. Cases run in worker threads
// with a watchdog (this bundled file is the worker script), so a hang is a failure, not a stuck test.
// No time budget: the same cases run on a quiet or a busy machine; the corpus (and the Linux 6.1
// tree it may extract) is prepared before the test, a case is a hang only after 60 s without
// progress (the slowest case took 9.8 s of wall time with the 2 cores loaded about 6x), and the
// test's timeout is far above the run (113 s measured under that load), only there to end a run that
// would never finish.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DEFAULT_LIMITS, evaluateMakefile } from '../../server/src/make/evaluator';
import { parseMakefile } from '../../server/src/make/parser';
import { kernelTree, root } from '../helpers/kernelTree';
import { exercise, loadCorpus, rng, runFuzz, type CorpusFile } from './makeFuzzCore';
import { cpuTimed } from '../helpers/cpuTime';

const CASES = Number(process.env.KBD_MAKE_FUZZ_CASES ?? 2000);

if (isMainThread) {
  let corpus: CorpusFile[] = [];
  before(() => {
    const linux = kernelTree('6.1');
    corpus = loadCorpus(root, 'path' in linux ? linux.path : undefined);
  });

  test(
    `${CASES} seeded make mutations: no crash, no hang, fixes keep every line`,
    { timeout: 15 * 60_000 },
    async (t) => {
      const t0 = Date.now();
      const stats = await runFuzz({
        corpus,
        cases: CASES,
        seed: 1,
        workerFile: __filename,
        workers: 2,
        caseTimeoutMs: 60_000,
      });
      t.diagnostic(
        JSON.stringify({
          ...stats,
          failures: stats.failures.length,
          corpus: corpus.length,
          seconds: (Date.now() - t0) / 1000,
        }),
      );
      assert.deepEqual(
        stats.failures
          .slice(0, 3)
          .map((f) => ({ case: f.case, kind: f.kind, base: f.base, mutations: f.mutations, error: f.error })),
        [],
      );
      assert.equal(stats.cases, CASES, 'every case ran');
      assert.ok(stats.fixesChecked > 0);
    },
  );

  test('regression fixtures (crashers found by fuzzing) run clean', () => {
    const dir = join(root, 'test', 'fixtures', 'regressions', 'make');
    const files = readdirSync(dir).filter((n) => /\.(mk|cmd)$/.test(n));
    assert.ok(files.length > 0);
    for (const n of files)
      exercise(n, readFileSync(join(dir, n), 'utf8'), rng(1), { boundHits: 0, fixesChecked: 0, cmdFlags: 0 });
    // Conditionals nested 10,000 deep (the outline and the rule walked them recursively).
    const deep = `${'ifeq (a,a)\nX := 1\n'.repeat(10_000)}${readFileSync(join(root, 'test', 'fixtures', 'nvhe-variants', 'v3-6.1', 'Makefile'), 'utf8')}${'endif\n'.repeat(10_000)}`;
    exercise('deep.mk', deep, rng(1), { boundHits: 0, fixesChecked: 0, cmdFlags: 0 });
  });

  test('recursive and exponential expansions stop at the documented limits with a diagnostic', () => {
    const cases: [string, RegExp][] = [
      ['X = $(X)\nY := $(X)\n', /./],
      ['f = $(call f,$(1))\nY := $(call f,x)\n', /./],
      ['f = $(call f,$(1)$(1))\nY := $(call f,x)\n', /./],
      [
        'L0 := x x x x x x x x x x\nL1 := $(foreach a,$(L0),$(foreach b,$(L0),$(foreach c,$(L0),$(foreach d,$(L0),$(foreach e,$(L0),$(foreach f,$(L0),$(foreach g,$(L0),$(L0)))))))))\n',
        /./,
      ],
      [`D := xxxxxxxxxx\n${'D := $(D)$(D)\n'.repeat(30)}`, /./],
      ['define R\n$(eval $(R))\nendef\n$(eval $(R))\n', /./],
    ];
    for (const [text] of cases) {
      const { value: ev, ms } = cpuTimed(() => evaluateMakefile(parseMakefile(text)));
      assert.ok(ev.diagnostics.length > 0, `no diagnostic for ${JSON.stringify(text.slice(0, 60))}`);
      assert.ok(ms < 5_000, `${ms} ms for ${JSON.stringify(text.slice(0, 60))}`);
      for (const v of ev.variables.values()) assert.ok(v.value.length <= DEFAULT_LIMITS.maxExpansionLength * 2);
    }
  });
}
