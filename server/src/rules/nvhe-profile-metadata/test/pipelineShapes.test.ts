// Every real-world shape of the nVHE pipeline in test/fixtures/pipeline-shapes (see its README for
// where each comes from): the verdict, the file the diagnostic lands in, and which fix forms are
// offered (each offered fix, applied, clears the finding; the others would not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { makefileContext } from '../../../analysis';
import { main } from '../../../cli/main';
import { applyEdits } from '../../../make/edits';
import { RULES } from '../../registry';
import { root } from '../../../../../test/helpers/kernelTree';

const SHAPES = join(root, 'test', 'fixtures', 'pipeline-shapes');
const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const rule = RULES[0];

interface Expect {
  /** Files with findings, relative to the shape, and their worst code. */
  findings: Record<string, string>;
  /** Fix forms offered for the file that holds the finding. */
  fixes?: string[];
}

const EXPECT: Record<string, Expect> = {
  'android-split': { findings: { [`${NVHE}/Makefile.nvhe`]: 'nvhe-profile-metadata' }, fixes: ['A', 'B'] },
  'android-split-filter': { findings: { [`${NVHE}/Makefile.nvhe`]: 'nvhe-profile-alias' }, fixes: ['A', 'B'] },
  'android-split-vendor': { findings: { [`${NVHE}/Makefile.nvhe`]: 'nvhe-profile-alias' }, fixes: ['A', 'B'] },
  'pkvm-module': { findings: { [`${NVHE}/Makefile.nvhe`]: 'nvhe-profile-metadata' }, fixes: ['A', 'B'] },
  'pkvm-module-filter': { findings: { [`${NVHE}/Makefile.nvhe`]: 'nvhe-profile-alias' }, fixes: ['A', 'B'] },
  'per-object-5.9': { findings: {} },
  'ld-r-5.10': { findings: {} },
  'autofdo-mainline': { findings: { [`${NVHE}/Makefile`]: 'nvhe-profile-alias' }, fixes: ['A', 'B'] },
  'autofdo-y': { findings: { [`${NVHE}/Makefile`]: 'nvhe-profile-metadata' }, fixes: ['B', 'C'] },
};

test('the fixture folder and this table list the same shapes', () => {
  const readme = readFileSync(join(SHAPES, 'README.md'), 'utf8');
  for (const shape of Object.keys(EXPECT)) assert.ok(readme.includes(`\`${shape}\``), shape);
});

for (const [shape, want] of Object.entries(EXPECT)) {
  test(`shape ${shape}: verdict, place and fixes`, async () => {
    const dir = join(SHAPES, shape);
    const parts: string[] = [];
    const io = { out: (t: string) => void parts.push(t), err: (t: string) => void parts.push(t) };
    await main(['check', '--format', 'json', dir], io, { docsDir: join(root, 'server', 'out', 'rules') });
    const out = parts.join('');
    const results = out.startsWith('{')
      ? (JSON.parse(out) as { results: { file: string; diagnostics: { code: string; severity: number }[] }[] }).results
      : [];
    const got: Record<string, string> = {};
    for (const r of results) {
      const worst = [...r.diagnostics].sort((a, b) => a.severity - b.severity)[0];
      if (worst) got[relative(dir, r.file)] = worst.code;
    }
    assert.deepEqual(got, want.findings);
    for (const file of Object.keys(want.findings)) {
      const abs = join(dir, file);
      const text = readFileSync(abs, 'utf8');
      const ctx = makefileContext(abs, text, dir);
      const noBuild = async () => undefined;
      const offered: string[] = [];
      for (const f of rule.fixes) if (await rule.fix(ctx, f.id, noBuild)) offered.push(f.id);
      assert.deepEqual(offered, want.fixes, `fixes offered for ${file}`);
      // Each offered fix, applied to a copy of the shape, leaves no warning or error in it.
      for (const id of offered) {
        const copy = mkdtempSync(join(tmpdir(), 'kbd-shape-'));
        try {
          cpSync(dir, copy, { recursive: true });
          const fix = await rule.fix(ctx, id, noBuild);
          assert.ok(fix);
          const fixedFile = join(copy, file);
          const fixed = applyEdits(text, fix.edits);
          writeFileSync(fixedFile, fixed);
          const p2: string[] = [];
          await main(
            ['check', '--format', 'json', copy],
            { out: (t) => void p2.push(t), err: (t) => void p2.push(t) },
            { docsDir: join(root, 'server', 'out', 'rules') },
          );
          const after = p2.join('').startsWith('{')
            ? (JSON.parse(p2.join('')) as { results: { diagnostics: { code: string; severity: number }[] }[] }).results
            : [];
          const left = after.flatMap((r) => r.diagnostics).filter((d) => d.severity <= 2);
          assert.deepEqual(
            left.map((d) => d.code),
            [],
            `fix ${id} on ${shape}`,
          );
        } finally {
          rmSync(copy, { recursive: true, force: true });
        }
      }
    }
  });
}
