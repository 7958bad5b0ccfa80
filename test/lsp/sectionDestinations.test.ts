// The section explorer's destinations, spoken over LSP stdio to the built server, with the real
// linker as the oracle:
//  - the sample tree (test/fixtures/sample-kernel): each hyp object's sections in the ld -r -T hyp.lds
//    of kvm_nvhe.tmp.o, the link its Makefile runs, as `ld.lld-19 -Map` places them for the build's
//    recorded command (build/.../.kvm_nvhe.tmp.o.cmd);
//  - a small tree with a link that passes --orphan-handling=error and objects clang-19 compiles here
//    with -fbasic-block-sections=labels: the orphans marked with the link that refuses them and
//    ld.lld-19's own error lines, the stages objects -> link output, and every destination as ld.lld places it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';
import { destinationsIn, linkArgsOfCmd, oraclePlacements, placementDifferences } from '../helpers/linkOracle';
import { readCmdFile } from '../../server/src/kbuild/cmdFile';
import type { ObjectInfo, SectionInfo } from '../../server/src/lspExt';
import { missingToolchain } from '../helpers/kernelBuild';

const NVHE = 'arch/arm64/kvm/hyp/nvhe';
const uri = (p: string) => pathToFileURL(p).toString();

const missing = missingToolchain(['clang-19', 'ld.lld-19']);

let tmp: string;
before(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'kbd-destinations-')));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function sectionsOf(lsp: LspClient, file: string): Promise<{ sections: SectionInfo[]; object: ObjectInfo }> {
  const r = await lsp.request<{ sections: SectionInfo[]; total: number; object: ObjectInfo }>('kbuild/listSections', {
    objectUri: uri(file),
    limit: 10_000,
  });
  assert.equal(r.sections.length, r.total);
  return r;
}

/**
 * Waits until the analyses have given the explorer the links (a listing made before them, from
 * Kbuild's names alone, is dropped when the server finds the Makefile).
 */
async function objectsOnceAnalyzed(lsp: LspClient, buildDir: string, stage: string): Promise<ObjectInfo[]> {
  for (let i = 0; i < 300; i++) {
    const r = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', { buildUri: uri(buildDir) });
    if (r.objects.some((o) => o.stage === stage && o.linkedInto)) return r.objects;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.fail(`no object of stage ${stage} in a known link listed in ${buildDir}`);
}

test(
  'sample tree: the hyp objects placed in the ld -r -T hyp.lds of kvm_nvhe.tmp.o as ld.lld-19 -Map places them',
  { skip: missing ?? false, timeout: 120_000 },
  async () => {
    const tree = join(tmp, 'sample-kernel');
    cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
    const build = join(tree, 'build');
    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      await lsp.initialize(tree);
      const objects = await objectsOnceAnalyzed(lsp, build, 'hyp-object');
      const link = `${NVHE}/kvm_nvhe.tmp.o`;
      const cmd = readCmdFile(readFileSync(join(build, NVHE, '.kvm_nvhe.tmp.o.cmd'), 'utf8'));
      assert.ok(cmd.ok);
      const args = linkArgsOfCmd(cmd.records[0].commands[0].words.map((w) => w.text));
      const oracle = oraclePlacements(build, args, args.indexOf('-T') + 1);
      const inputs = args.filter((w) => w.endsWith('.o'));
      assert.equal(inputs.length, 4);
      let placed = 0;
      let withProfile = 0;
      for (const object of inputs) {
        assert.deepEqual(objects.find((o) => o.relativePath === object)?.linkedInto, [link]);
        const { sections } = await sectionsOf(lsp, join(build, object));
        const mine = destinationsIn(object, sections, link);
        assert.deepEqual(placementDifferences(oracle, object, mine), [], object);
        placed += mine.size;
        // ld -r keeps what hyp.lds does not name under its own name: an orphan, which this link does not check.
        const cg = sections.find((s) => s.name === '.llvm.call-graph-profile');
        if (cg) {
          withProfile++;
          assert.deepEqual(
            cg.destinations?.map((d) => `${d.kind}:${d.output}`),
            ['orphan:.llvm.call-graph-profile'],
          );
          assert.equal(cg.warning, undefined, 'no mark: this link does not check orphans');
        }
        const text = sections.find((s) => s.name === '.text');
        if (text) assert.equal(text.destinations?.[0].output, '.hyp.text');
      }
      assert.ok(placed >= 20, `${placed} sections compared`);
      assert.ok(withProfile > 0, 'some hyp object carries the profile section');
      // The ld -r output is no input of a link the Makefile's rules name with a script here; the
      // nvhe marks stay as they were.
      const tmpObj = await sectionsOf(lsp, join(build, link));
      assert.deepEqual(
        tmpObj.sections
          .filter((s) => s.offending)
          .map((s) => s.name)
          .sort(),
        ['.llvm.call-graph-profile', '.rel.llvm.call-graph-profile'],
      );
    } finally {
      await lsp.stop();
    }
  },
);

const LINK_SCRIPT = [
  'SECTIONS {',
  '  .text : { *(.text .text.*) }',
  '  .rodata : { *(.rodata .rodata.*) }',
  '  .data : { *(.data .data.*) }',
  '  /DISCARD/ : { *(.comment) }',
  '}',
  '',
].join('\n');

/** A tree whose lib/v/Makefile links v.so.dbg with --orphan-handling=error, objects compiled by clang-19. */
function orphanTree(): string {
  const dir = join(tmp, 'orphan-tree');
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  mkdirSync(join(dir, 'lib', 'v'), { recursive: true });
  writeFileSync(join(dir, 'scripts', 'Kbuild.include'), '');
  writeFileSync(join(dir, 'Makefile'), 'LD = $(CROSS_COMPILE)ld\nOBJCOPY = $(CROSS_COMPILE)objcopy\n');
  writeFileSync(join(dir, '.config'), 'CONFIG_ARM64=y\n');
  writeFileSync(
    join(dir, 'scripts', 'Makefile.lib'),
    'ld_flags       = $(KBUILD_LDFLAGS) $(ldflags-y) $(LDFLAGS_$(@F))\n      cmd_ld = $(LD) $(ld_flags) $(real-prereqs) -o $@\n',
  );
  writeFileSync(
    join(dir, 'lib', 'v', 'Makefile'),
    [
      'ldflags-y := -shared --orphan-handling=error -T',
      '$(obj)/v.so.dbg: $(obj)/v.lds $(obj)/a.o $(obj)/b.o FORCE',
      '\t$(call if_changed,ld)',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'lib', 'v', 'v.lds'), LINK_SCRIPT);
  const src = 'int g(int);\nint f(int x) { if (x > 3) return g(x) * 2; return g(x + 1); }\nconst char *s = "x";\n';
  writeFileSync(join(dir, 'lib', 'v', 'a.c'), src);
  writeFileSync(join(dir, 'lib', 'v', 'b.c'), src.replace(/\bf\b/g, 'h').replace(/\bs\b/g, 't'));
  const cc = (name: string, extra: string[]) => {
    const r = spawnSync(
      'clang-19',
      [
        '--target=aarch64-linux-gnu',
        '-O2',
        '-fno-asynchronous-unwind-tables',
        '-c',
        ...extra,
        `${name}.c`,
        '-o',
        `${name}.o`,
      ],
      { cwd: join(dir, 'lib', 'v'), encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
  };
  cc('a', ['-fbasic-block-sections=labels']);
  cc('b', []);
  return dir;
}

test(
  'an --orphan-handling=error link: orphans marked with the link and ld.lld-19 own lines; destinations as ld.lld places them',
  { skip: missing ?? false, timeout: 120_000 },
  async () => {
    const dir = orphanTree();
    const args = ['-shared', '-T', 'lib/v/v.lds', 'lib/v/a.o', 'lib/v/b.o'];
    const real = spawnSync('ld.lld-19', [...args, '--orphan-handling=error', '-o', join(tmp, 'v.so.dbg')], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.notEqual(real.status, 0, 'the real link fails');
    // The input objects' orphans (ld.lld also names its own synthetic sections as <internal>).
    const errors = [...real.stderr.matchAll(/^ld\.lld-19: error: (lib\/v\/.*is being placed in '.*')$/gm)].map(
      (m) => m[1],
    );
    assert.ok(errors.length > 0, real.stderr);
    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      await lsp.initialize(dir);
      const objects = await objectsOnceAnalyzed(lsp, dir, 'orphan-link-input');
      const a = objects.find((o) => o.relativePath === 'lib/v/a.o');
      assert.equal(a?.status, 'offending');
      assert.equal(a?.nextStage, 'orphan-link-output');
      assert.deepEqual(a?.linkedInto, ['lib/v/v.so.dbg']);
      assert.equal(objects.find((o) => o.relativePath === 'lib/v/b.o')?.status, 'ok', 'b.o has no orphan');
      const lines = objects.flatMap((o) => (o.objectProblem ? o.objectProblem.split('\n') : []));
      assert.deepEqual(
        lines.map((l) => l.replace(/^ld\.lld: error: /, '')).sort(),
        errors.sort(),
        "ld.lld's own lines",
      );
      const oracle = oraclePlacements(dir, args, 2);
      for (const object of ['lib/v/a.o', 'lib/v/b.o']) {
        const { sections } = await sectionsOf(lsp, join(dir, object));
        assert.deepEqual(
          placementDifferences(oracle, object, destinationsIn(object, sections, 'lib/v/v.so.dbg')),
          [],
          object,
        );
        for (const s of sections) {
          const orphan = s.destinations?.some((d) => d.kind === 'orphan') ?? false;
          assert.equal(!!s.offending, orphan, `${object}:(${s.name}) is marked exactly when it is an orphan`);
          if (orphan)
            assert.match(s.offending ?? '', /the link of lib\/v\/v\.so\.dbg refuses it \(--orphan-handling=error\)/);
        }
        const comment = sections.find((s) => s.name === '.comment');
        assert.equal(comment?.destinations?.[0].kind, 'discard');
      }
      const bb = (await sectionsOf(lsp, join(dir, 'lib/v/a.o'))).sections.find((s) => s.name === '.llvm_bb_addr_map');
      assert.deepEqual(
        bb?.destinations?.map((d) => `${d.kind}:${d.output}`),
        ['orphan:.llvm_bb_addr_map'],
      );
    } finally {
      await lsp.stop();
    }
  },
);
