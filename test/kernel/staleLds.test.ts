// A generated file is evidence of the last build, not an input of the next one (issue 17, part 2),
// against real builds. The `prefix` variant of Linux 6.1 (form A deleted, scripts/kernel-variants.sh)
// is built once with a sample profile: gen-hyprel fails, and the build leaves hyp.lds (no /DISCARD/)
// and objects that hold .llvm.call-graph-profile. Then `/DISCARD/ : { *(.llvm.call-graph-profile) }`
// goes into hyp.lds.S, which makes hyp.lds stale: make regenerates it, and the next build passes.
// The real server's verdict is checked before that build (the stale hyp.lds and the failed build's
// objects present: no live warning or error, the old evidence reported as stale) and after it (no
// warning), with both sample-profile spellings.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scriptForNextBuild } from '../../server/src/kbuild/ldsSource';
import { firstVerdict, type LspDiagnostic, type PublishedDiagnostics } from '../helpers/lspClient';
import {
  buildVariant,
  editVariant,
  GEN_HYPREL_ERROR,
  NVHE,
  pipelineFile,
  prepareVariant,
  variantsMissing,
} from '../helpers/kernelVariants';

const RULE = 'nvhe-profile-metadata';
const STALE = 'nvhe-stale-build';
const SOURCE = 'kbuild-diagnostics';
const SPELLINGS = ['-fprofile-sample-use=', '-fauto-profile='] as const;
const DISCARD_LINE = '/DISCARD/ : { *(.llvm.call-graph-profile) }';

const serious = (p: PublishedDiagnostics) =>
  p.diagnostics.filter((d) => d.source === SOURCE && d.severity !== undefined && d.severity <= 2);
const show = (ds: LspDiagnostic[]) => ds.map((d) => `${String(d.code)}(${d.severity}): ${d.message}`).join('\n');

const verdict = firstVerdict;

const hasCallGraph = (object: string): boolean =>
  execFileSync('llvm-readelf-19', ['-S', object], { encoding: 'utf8' }).includes('.llvm.call-graph-profile');

async function oneSpelling(t: TestContext, spelling: string): Promise<void> {
  const tree = prepareVariant('prefix');
  const makefile = pipelineFile('prefix');
  const nvhe = join(tree, NVHE);
  const kcflags = `KCFLAGS=${spelling}${tree}/nvhe.prof`;

  // The earlier build: hyp.lds.S as shipped, so gen-hyprel fails on the call-graph section.
  const earlier = buildVariant('prefix', [kcflags]);
  t.diagnostic(`earlier build with ${spelling}: status ${earlier.status}, ${earlier.seconds} s`);
  assert.notEqual(earlier.status, 0, 'without the /DISCARD/ the build fails');
  assert.ok(earlier.log.includes(GEN_HYPREL_ERROR), `gen-hyprel's error:\n${earlier.log.slice(-2000)}`);
  assert.ok(hasCallGraph(join(nvhe, 'kvm_nvhe.tmp.o')), 'the failed build left kvm_nvhe.tmp.o with the section');

  editVariant('prefix', ['lds-discard']);
  const lds = readFileSync(join(nvhe, 'hyp.lds'), 'utf8');
  assert.ok(readFileSync(join(nvhe, 'hyp.lds.S'), 'utf8').includes(DISCARD_LINE), 'hyp.lds.S has the /DISCARD/');
  assert.ok(!lds.includes('/DISCARD/'), "the earlier build's hyp.lds has no /DISCARD/");
  assert.ok(
    statSync(join(nvhe, 'hyp.lds.S')).mtimeMs > statSync(join(nvhe, 'hyp.lds')).mtimeMs,
    'hyp.lds.S is newer than hyp.lds: make will regenerate it',
  );

  const pending = scriptForNextBuild(tree, tree, `${NVHE}/hyp.lds`);
  assert.equal(pending?.from, 'preprocessed', 'before the build, the next build uses hyp.lds.S');
  assert.equal(pending?.stale, true);
  assert.ok(
    pending?.reasons.some((r) => r.endsWith(`hyp.lds.S is newer than ${NVHE}/hyp.lds`)),
    JSON.stringify(pending?.reasons),
  );

  // Before the build: the next build links with the regenerated script, so no live warning or error;
  // what the failed build left is evidence of that build, said to be stale.
  const before = await verdict(tree, makefile);
  assert.deepEqual(
    serious(before).filter((d) => d.code === RULE || d.severity === 1),
    [],
    `before: no warning or error from the rule, and no error at all:\n${show(before.diagnostics)}`,
  );
  const stale = before.diagnostics.find((d) => d.code === STALE);
  assert.ok(stale, `before: the failed build's evidence is reported as stale:\n${show(before.diagnostics)}`);
  assert.equal(stale.severity, 3, 'stale evidence is information');
  assert.match(stale.message, /hyp\.lds/, `the stale note names the script: ${stale.message}`);

  const b = buildVariant('prefix', [kcflags]);
  t.diagnostic(`build with ${spelling} and the /DISCARD/: status ${b.status}, ${b.seconds} s`);
  assert.equal(b.status, 0, `make regenerates hyp.lds and the build passes:\n${b.log.slice(-2000)}`);
  assert.ok(readFileSync(join(nvhe, 'hyp.lds'), 'utf8').includes('/DISCARD/'), 'hyp.lds was regenerated');
  assert.ok(!hasCallGraph(join(nvhe, 'kvm_nvhe.tmp.o')), 'kvm_nvhe.tmp.o has no call-graph section');

  // The regenerated hyp.lds is what the next build uses: its recorded command is what Kbuild passes.
  const next = scriptForNextBuild(tree, tree, `${NVHE}/hyp.lds`);
  assert.deepEqual(
    [next?.from, next?.stale, next?.reasons],
    ['generated', false, []],
    'after the build, make would keep hyp.lds',
  );

  const after = await verdict(tree, makefile);
  assert.deepEqual(serious(after), [], `after: no warning or error:\n${show(after.diagnostics)}`);
  assert.ok(!after.diagnostics.some((d) => d.code === STALE), `after: nothing is stale:\n${show(after.diagnostics)}`);
}

const missing = variantsMissing();

test(
  'a stale hyp.lds from an earlier build does not hide the /DISCARD/ in hyp.lds.S: the server agrees with real builds',
  { timeout: 40 * 60_000 },
  async (t) => {
    if (missing) assert.fail(`the builds need the kernel toolchain: ${missing}`);
    try {
      for (const spelling of SPELLINGS) await t.test(`KCFLAGS=${spelling}<profile>`, (st) => oneSpelling(st, spelling));
    } finally {
      prepareVariant('prefix');
    }
  },
);
