// The advice in the rule's error (the build shows the metadata) names the forms that clear the flow,
// as the warning and the offered quick-fixes do: with Kbuild's own AutoFDO flags (the autofdo-y shape)
// a KBUILD_CFLAGS filter (form A) alone does not help, so the error names forms B and C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makefileContext } from '../../../analysis';
import { analyzeNvhe } from '../analysis';
import { nvheDiagnostics, type BuildEvidence } from '../diagnostic';
import { root } from '../../../../../test/helpers/kernelTree';

const SHAPES = join(root, 'test', 'fixtures', 'pipeline-shapes');
const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const links = { makefileUri: 'file:///m', docUri: 'file:///doc', fileUri: (p: string) => `file://${p}` };

function errorAdvice(shape: string): { warning: string; error: string } {
  const dir = join(SHAPES, shape);
  const file = join(dir, NVHE, shape.startsWith('android') ? 'Makefile.nvhe' : 'Makefile');
  const ctx = makefileContext(file, readFileSync(file, 'utf8'), dir);
  const v = analyzeNvhe(ctx);
  assert.ok(v?.leaks, `${shape} leaks`);
  const evidence: BuildEvidence = {
    buildDir: dir,
    objects: [],
    flags: [
      {
        cmdFile: join(dir, NVHE, '.hyp-main.nvhe.o.cmd'),
        target: `${NVHE}/hyp-main.nvhe.o`,
        flag: '-fprofile-sample-use=/tmp/nvhe.prof',
        span: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      },
    ],
    incomplete: [],
  };
  const [warning] = nvheDiagnostics(v, links);
  const [error] = nvheDiagnostics(v, links, evidence);
  assert.equal(warning.severity, 2);
  assert.equal(error.severity, 1);
  return { warning: String(warning.message), error: String(error.message) };
}

test('autofdo-y: the error names forms B and C, not form A alone', () => {
  const { warning, error } = errorAdvice('autofdo-y');
  for (const m of [warning, error]) {
    assert.match(m, /\(form B\)/);
    assert.match(m, /\(form C\)/);
    assert.doesNotMatch(m, /Filter the profile flags out of KBUILD_CFLAGS \(form A\) or/);
  }
});

test('android-split: the error names forms A and B', () => {
  const { error } = errorAdvice('android-split');
  assert.match(error, /\(form A\) or remove \.llvm\.call-graph-profile before gen-hyprel \(form B\)/);
  assert.doesNotMatch(error, /form C/);
});
