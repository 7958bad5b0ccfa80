// Workspace content never runs: `$(shell ...)` and `!=` in a Makefile or Kbuild file never execute,
// through the parser, the evaluator, the nvhe rule, the fixes and the real server. And the shipped
// bundles (server, command line, client) contain no code of ours that starts processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { parseMakefile } from '../../server/src/make/parser';
import { computeFix } from '../../server/src/rules/nvhe-profile-metadata/fixes';
import { analyzeNvhe } from '../../server/src/rules/nvhe-profile-metadata/analysis';
import { profileFlagsOfCmdFile } from '../../server/src/kbuild/cmdFile';
const flagsOfCmdFile = (file: string, text: string) => profileFlagsOfCmdFile(file, text).flags;
import { root } from '../helpers/kernelTree';
import { diagnosticsOf, NVHE, sampleTree, startServer } from './lspHelpers';

function hostile(marker: string): string {
  return [
    `X := $(shell touch ${marker}-shell)`,
    `Y != touch ${marker}-bang`,
    `Z = $(shell touch ${marker}-lazy)`,
    `KBUILD_CFLAGS += $(Z) $(shell touch ${marker}-flags)`,
    `$(eval W := $$(shell touch ${marker}-eval))`,
    `$(foreach f,1 2,$(shell touch ${marker}-foreach))`,
    `V := $(file >${marker}-file,hello)$(file <${marker}-file)`,
    `U := $(guile (system "touch ${marker}-guile"))`,
    `cmd_hyprel = $(shell touch ${marker}-cmd) $(obj)/gen-hyprel $< > $@`,
    `$(obj)/hyp-reloc.S: $(obj)/kvm_nvhe.tmp.o FORCE`,
    `\t$(call if_changed,hyprel)`,
    '',
  ].join('\n');
}
const SUFFIXES = ['shell', 'bang', 'lazy', 'flags', 'eval', 'foreach', 'file', 'guile', 'cmd'];

test('$(shell), != , $(file) and $(guile) never run in the parser, evaluator, rule or fixes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-noexec-'));
  const marker = join(dir, 'ran');
  try {
    const text =
      hostile(marker) + readFileSync(join(root, 'test', 'fixtures', 'sample-kernel', NVHE, 'Makefile'), 'utf8');
    const mf = parseMakefile(text);
    const ev = evaluateMakefile(mf);
    for (const v of ['X', 'Y', 'Z', 'W', 'V', 'U', 'KBUILD_CFLAGS']) ev.expand(`$(${v})`);
    const input = { makefile: mf, objDir: NVHE, readSibling: () => undefined };
    assert.ok(analyzeNvhe(input));
    computeFix(text, input, 'A');
    computeFix(text, input, 'B');
    flagsOfCmdFile('.x.o.cmd', `savedcmd_x.o := $(shell touch ${marker}-cmdfile) clang -c x.c\n`);
    for (const s of [...SUFFIXES, 'cmdfile']) assert.equal(existsSync(`${marker}-${s}`), false, `${s} ran`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'the real server opens, edits, hovers, fixes and diagnoses a hostile Makefile without running it',
  { timeout: 30_000 },
  async () => {
    const t = sampleTree('kbd-noexec-lsp-');
    const marker = join(t.tree, 'ran');
    const text = hostile(marker) + t.text;
    // On disk too (the workspace scan reads files that are not open).
    writeFileSync(t.makefile, text);
    writeFileSync(
      join(t.tree, 'Kbuild'),
      `obj-y += $(shell touch ${marker}-kbuild)\nA != touch ${marker}-kbuild-bang\n`,
    );
    const lsp = await startServer(t.tree, { watch: true });
    try {
      const u = lsp.open(t.makefile, text, 'kbuild', 1);
      await diagnosticsOf(lsp, u, (p) => p.version === 1);
      for (let line = 0; line < 10; line++)
        await lsp.request('textDocument/hover', { textDocument: { uri: u }, position: { line, character: 8 } });
      await lsp.request('textDocument/codeAction', {
        textDocument: { uri: u },
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        context: { diagnostics: [], only: ['source.fixAll'] },
      });
      await lsp.request('kbuild/fixEdit', { makefileUri: u, fix: 'B' });
      await lsp.request('kbuild/makePatch', { makefileUri: u, fix: 'A' });
      await lsp.request('kbuild/listBuildDirectories', {});
      lsp.change(u, 2, `${text}\nQ != touch ${marker}-edit\n`);
      await diagnosticsOf(lsp, u, (p) => p.version === 2);
      for (const s of [...SUFFIXES, 'kbuild', 'kbuild-bang', 'edit'])
        assert.equal(existsSync(`${marker}-${s}`), false, `${s} ran`);
    } finally {
      await lsp.stop();
      rmSync(t.tree, { recursive: true, force: true });
    }
  },
);

test('audit: no code of ours that starts processes reaches the server, CLI or client bundles', async () => {
  // What each shipped entry point pulls in (esbuild's metafile), and which of our files import child_process.
  const entries = { server: 'server/src/server.ts', cli: 'server/src/cli.ts', client: 'client/src/extension.ts' };
  for (const [name, entry] of Object.entries(entries)) {
    // Loaded at run time: esbuild's API cannot be bundled into this test.
    const { build } = createRequire(join(root, 'package.json'))('esbuild') as typeof Esbuild;
    const r = await build({
      entryPoints: [join(root, entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      metafile: true,
      external: ['vscode'],
      logLevel: 'silent',
    });
    const ours = Object.keys(r.metafile.inputs).filter((f) => !f.includes('node_modules'));
    const spawning = ours.filter((f) =>
      /from ['"](node:)?child_process['"]|require\(['"](node:)?child_process['"]\)/.test(
        readFileSync(join(root, f), 'utf8'),
      ),
    );
    assert.deepEqual(spawning, [], `${name} bundle includes process-spawning code of ours: ${spawning.join(', ')}`);
    // The server must not pull in the test-only host tool runner.
    assert.ok(!ours.some((f) => f.endsWith('hostTools.ts')), `${name} includes hostTools.ts`);
    assert.ok(ours.length > 3, relative(root, entry));
  }
});
