// Kbuild's probe functions against real builds (issue 17, part 1): the `prefix` variant of Linux 6.1
// (form A deleted, scripts/kernel-variants.sh) with a cc-option line written into nvhe/Makefile, built
// with clang-19 and each sample-profile spelling in KCFLAGS. The tree's own Makefile.compiler defines
// cc-option with try-run ($(shell ...)); the server answers it from the build's configuration
// (CONFIG_CC_IS_CLANG, CONFIG_CLANG_VERSION, arm64) and its option table, running nothing. For each
// line and spelling the real server's verdict is checked before the build (Makefile and tree alone)
// and after it (with the build's objects and .cmd files), against what the real build did.
// One prepared tree; only the nvhe directory is rebuilt (six builds, about 20 s each on an idle machine).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstVerdict, type LspDiagnostic, type PublishedDiagnostics } from '../helpers/lspClient';
import {
  buildVariant,
  editVariant,
  GEN_HYPREL_ERROR,
  NVHE,
  pipelineFile,
  prepareVariant,
  variantsMissing,
  type FixForm,
} from '../helpers/kernelVariants';

const RULE = 'nvhe-profile-metadata';
const SOURCE = 'kbuild-diagnostics';
/** The spellings the real builds use: clang's sample-profile option and its alias. */
const SPELLINGS = ['-fprofile-sample-use=', '-fauto-profile='] as const;

const serious = (p: PublishedDiagnostics) =>
  p.diagnostics.filter((d) => d.source === SOURCE && d.severity !== undefined && d.severity <= 2);
const ruleDiag = (p: PublishedDiagnostics) => p.diagnostics.find((d) => d.code === RULE);

interface Case {
  form: FixForm;
  line: RegExp;
  /** The real build with either sample spelling passes. */
  passes: boolean;
  why: string;
}

const CASES: Case[] = [
  {
    form: 'v1',
    line: /^KBUILD_CFLAGS \+= \$\(call cc-option,-fno-profile-sample-use,-fno-profile-use\)$/,
    passes: true,
    why: 'v1 after the filter line: clang 19 accepts -fno-profile-sample-use, which comes after KCFLAGS',
  },
  {
    form: 'cc-ccflags',
    line: /^ccflags-y \+= \$\(call cc-option,-fno-profile-sample-use\) \$\(call cc-option,-fno-profile-use\)$/,
    passes: true,
    why: 'ccflags-y negations through cc-option: both accepted, after KBUILD_CFLAGS',
  },
  {
    form: 'cc-instr',
    line: /^KBUILD_CFLAGS \+= \$\(call cc-option,-fno-profile-instr-use\)$/,
    passes: false,
    why: 'negates only the instrumentation profile: the sample profile stays on',
  },
];

const verdict = firstVerdict;

const show = (ds: LspDiagnostic[]) => ds.map((d) => `${String(d.code)}(${d.severity}): ${d.message}`).join('\n');

/** What the server says agrees with the build: no word of the spelling the build used when it passes. */
function checkVerdict(pub: PublishedDiagnostics, c: Case, spelling: string, stage: 'before' | 'after'): void {
  const d = ruleDiag(pub);
  if (c.passes) {
    // The spelling the build used gets through nowhere in what the server says.
    for (const x of serious(pub))
      assert.ok(
        !x.message.includes(spelling),
        `${c.form} ${stage}: ${spelling} is not said to reach the hyp compiles:\n${show(serious(pub))}`,
      );
    assert.ok(!serious(pub).some((x) => x.severity === 1), `${c.form} ${stage}: no error:\n${show(serious(pub))}`);
    if (c.form === 'v1') {
      // v1 leaves the instrumentation spellings through (docs/real-builds.md section 3 builds them): a warning naming only those.
      assert.ok(
        d && d.severity === 2,
        `${c.form} ${stage}: a warning about the instrumentation spellings:\n${show(pub.diagnostics)}`,
      );
      assert.match(d.message, /-fprofile-use=/);
    } else
      assert.deepEqual(
        serious(pub).map((x) => x.message),
        [],
        `${c.form} ${stage}: no warning or error`,
      );
    return;
  }
  assert.ok(d, `${c.form} ${stage}: the rule reports:\n${show(pub.diagnostics)}`);
  assert.ok(
    d.message.includes(spelling) || (stage === 'after' && d.message.includes(GEN_HYPREL_ERROR)),
    `${c.form} ${stage}: names ${spelling}: ${d.message}`,
  );
  assert.equal(
    d.severity,
    stage === 'before' ? 2 : 1,
    `${c.form} ${stage}: ${stage === 'before' ? 'a warning' : 'an error from the objects'}: ${d.message}`,
  );
}

async function oneCase(t: TestContext, c: Case, spelling: string): Promise<void> {
  const tree = prepareVariant('prefix');
  editVariant('prefix', [c.form]);
  const makefile = pipelineFile('prefix');
  assert.ok(
    readFileSync(makefile, 'utf8')
      .split('\n')
      .some((l) => c.line.test(l)),
    `the ${c.form} line is in ${makefile}`,
  );
  checkVerdict(await verdict(tree, makefile), c, spelling, 'before');
  const b = buildVariant('prefix', [`KCFLAGS=${spelling}${tree}/nvhe.prof`]);
  t.diagnostic(`${c.form} with ${spelling}: build status ${b.status}, ${b.seconds} s`);
  if (c.passes) {
    assert.equal(b.status, 0, `${c.why}: the build passes:\n${b.log.slice(-2000)}`);
    const sections = execFileSync('llvm-readelf-19', ['-S', join(tree, NVHE, 'kvm_nvhe.tmp.o')], { encoding: 'utf8' });
    assert.ok(!sections.includes('call-graph-profile'), 'kvm_nvhe.tmp.o has no call-graph section');
  } else {
    assert.notEqual(b.status, 0, `${c.why}: the build fails`);
    assert.ok(b.log.includes(GEN_HYPREL_ERROR), `gen-hyprel's error:\n${b.log.slice(-2000)}`);
  }
  checkVerdict(await verdict(tree, makefile), c, spelling, 'after');
}

const missing = variantsMissing();

test(
  'Kbuild probes (cc-option) in the nvhe Makefile: the server agrees with real builds',
  { timeout: 40 * 60_000 },
  async (t) => {
    if (missing) assert.fail(`the probe builds need the kernel toolchain: ${missing}`);
    try {
      // Spelling by spelling, so that Kbuild's prepare steps are rebuilt only when KCFLAGS changes.
      for (const spelling of SPELLINGS) {
        for (const c of CASES)
          await t.test(`${c.form}, KCFLAGS=${spelling}<profile>: ${c.why}`, (st) => oneCase(st, c, spelling));
      }
    } finally {
      prepareVariant('prefix');
    }
  },
);
