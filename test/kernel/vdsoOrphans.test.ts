// The orphan-sections rule against real builds of Debian's linux-source-6.12 arm64 vDSO with
// clang/lld 19 (scripts/prepare-vdso-tree.sh: defconfig + CONFIG_WERROR=y, cached under $KBD_CACHE).
// With KCFLAGS=-fbasic-block-sections=labels the link fails with ld.lld's orphan errors; the real
// server, from the compiled objects alone (the link wrote nothing), reports exactly those lines; each of
// its two quick-fixes, applied as an editor applies it (every file of the code action's edit), makes the
// real build pass: discarding the section in vdso.lds.S (llvm-readelf-19: the objects still hold it, the
// vDSO does not) and removing the flag (the preferred one for the vDSO, upstream's choice); with
// CONFIG_WERROR=n the build passes with ld.lld's warnings and the server says warning; without the flag:
// nothing.
// `sections --json` (the real command-line process) on the failed build's objects marks the same
// sections, each with the link that refuses it and its level.
// The section explorer on the same builds: the orphans marked with the link that refuses them and
// ld.lld's own lines, each section's destination in the vdso.so.dbg link equal to what
// `ld.lld-19 -Map` does with the build's recorded link, and the stages objects -> vdso.so.dbg -> vdso.so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyLspEdits, LspClient, type LspDiagnostic } from '../helpers/lspClient';
import { root } from '../helpers/kernelTree';
import { linkArgsOfCmd, oraclePlacements, placementDifferences, type Outcome } from '../helpers/linkOracle';
import { readCmdFile } from '../../server/src/kbuild/cmdFile';
import type { ObjectInfo, SectionInfo } from '../../server/src/lspExt';

const RULE = 'orphan-sections';
const VDSO = 'arch/arm64/kernel/vdso';
const FLAG = '-fbasic-block-sections=labels';

function missingTools(): string | undefined {
  for (const tool of ['clang-19', 'ld.lld-19', 'llvm-readelf-19', 'make', 'bc', 'flex', 'bison']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} is not installed`;
  }
  if (!existsSync('/usr/src/linux-source-6.12.tar.xz')) return 'linux-source-6.12 is not installed';
  return undefined;
}
const missing = missingTools();
if (missing && process.env.CI) throw new Error(`CI needs the kernel toolchain: ${missing}`);

interface CodeAction {
  title: string;
  isPreferred?: boolean;
  edit: {
    documentChanges: {
      textDocument: { uri: string; version: number | null };
      edits: { range: LspDiagnostic['range']; newText: string }[];
    }[];
  };
}

/** Applies every file's edits of a code action, as an editor does (the open Makefile's text is `open`). */
function applyAction(action: CodeAction, openUri: string, open: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const change of action.edit.documentChanges) {
    const file = fileURLToPath(change.textDocument.uri);
    const before = change.textDocument.uri === openUri ? open : readFileSync(file, 'utf8');
    out.set(file, applyLspEdits(before, change.edits));
  }
  return out;
}

function sectionNames(file: string): string[] {
  const out = execFileSync('llvm-readelf-19', ['-S', '-W', file], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1]);
}

function make(tree: string, args: string[]): { status: number; log: string } {
  const r = spawnSync('make', ['-C', tree, 'ARCH=arm64', 'LLVM=-19', '-j2', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 20 * 60_000,
  });
  return { status: r.status ?? 1, log: `${r.stdout}\n${r.stderr}` };
}

/** The vDSO's outputs removed, so each build compiles and links it anew. */
function cleanVdso(tree: string): void {
  const dir = join(tree, VDSO);
  for (const n of readdirSync(dir))
    if (/\.(o|so|dbg|lds)$/.test(n) || /^\..*\.cmd$/.test(n)) rmSync(join(dir, n), { force: true });
}

function configure(tree: string, werror: boolean): void {
  copyFileSync(join(tree, '.config.pristine'), join(tree, '.config'));
  if (!werror) execFileSync(join(tree, 'scripts', 'config'), ['--file', join(tree, '.config'), '--disable', 'WERROR']);
  const r = make(tree, ['olddefconfig']);
  assert.equal(r.status, 0, r.log);
}

/** ld.lld's orphan lines in a build log, without the `ld.lld-19: error: ` prefix. */
function lldLines(log: string, kind: 'error' | 'warning'): string[] {
  return [...log.matchAll(new RegExp(`^ld\\.lld(?:-\\d+)?: ${kind}: (.*is being placed in '.*')$`, 'gm'))]
    .map((m) => m[1])
    .sort();
}

/** The ld.lld lines a diagnostic's message predicts. */
function predicted(d: LspDiagnostic): string[] {
  return [...d.message.matchAll(/(\S+:\([^)]*\) is being placed in '[^']*')/g)].map((m) => m[1]).sort();
}

const LINK = `${VDSO}/vdso.so.dbg`;
const fileUri = (p: string): string => `file://${p}`;

async function explorerObjects(lsp: LspClient, tree: string): Promise<ObjectInfo[]> {
  const r = await lsp.request<{ objects: ObjectInfo[] }>('kbuild/listObjects', { buildUri: fileUri(tree) });
  return r.objects.filter((o) => o.relativePath.startsWith(`${VDSO}/`));
}

async function explorerSections(lsp: LspClient, tree: string, object: string): Promise<SectionInfo[]> {
  const r = await lsp.request<{ sections: SectionInfo[]; total: number }>('kbuild/listSections', {
    objectUri: fileUri(join(tree, object)),
    limit: 10_000,
  });
  assert.equal(r.sections.length, r.total);
  return r.sections;
}

/** The explorer's destinations of an object's sections in `link`, as the oracle writes them. */
function destinationsIn(object: string, sections: SectionInfo[], link: string): Map<string, Outcome[]> {
  const out = new Map<string, Outcome[]>();
  for (const s of sections) {
    const d = s.destinations?.find((x) => x.link === link);
    if (!d || d.kind === 'dropped') continue;
    const o = d.kind === 'output' ? `output:${d.output}` : d.kind === 'orphan' ? `orphan:${d.output}` : d.kind;
    const key = `${object}\0${s.name}`;
    out.set(key, [...(out.get(key) ?? []), o].sort());
  }
  return out;
}

async function serverVerdict(
  tree: string,
  makefile: string,
  text: string,
  until: (d: LspDiagnostic[]) => boolean,
): Promise<{ lsp: LspClient; uri: string; diagnostics: LspDiagnostic[] }> {
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  await lsp.initialize(tree, {}, { workspace: { didChangeWatchedFiles: { dynamicRegistration: false } } });
  const uri = lsp.open(makefile, text);
  const pub = await lsp.diagnostics(uri, (p) => until(p.diagnostics), 120_000);
  return { lsp, uri, diagnostics: pub.diagnostics };
}

test(
  'real Linux 6.12 arm64 vDSO: orphan sections predicted from the objects, the fix proved by the build',
  { skip: missing ?? false, timeout: 60 * 60_000 },
  async (t) => {
    const out = execFileSync('bash', [join(root, 'scripts', 'prepare-vdso-tree.sh')], {
      encoding: 'utf8',
      timeout: 30 * 60_000,
    })
      .trim()
      .split('\n');
    const tree = out[out.length - 1];
    const makefilePath = join(tree, VDSO, 'Makefile');
    const pristine = readFileSync(join(tree, VDSO, 'Makefile.pristine'), 'utf8');
    writeFileSync(makefilePath, pristine);
    writeFileSync(join(tree, VDSO, 'vdso.lds.S'), readFileSync(join(tree, VDSO, 'vdso.lds.S.pristine')));
    configure(tree, true);
    try {
      await t.test(
        'CONFIG_WERROR=y: the link fails; the server said so, line for line; the fix makes it pass',
        async () => {
          cleanVdso(tree);
          const failed = make(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
          assert.notEqual(failed.status, 0, 'the build fails');
          const real = lldLines(failed.log, 'error');
          assert.deepEqual(real, [
            `${VDSO}/vgetrandom.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`,
            `${VDSO}/vgettimeofday.o:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`,
          ]);
          assert.ok(
            !existsSync(join(tree, VDSO, 'vdso.so.dbg')),
            'the link wrote nothing: the verdict comes from the objects',
          );
          const { lsp, uri, diagnostics } = await serverVerdict(tree, makefilePath, pristine, (ds) =>
            ds.some((d) => d.code === RULE),
          );
          try {
            const d = diagnostics.find((x) => x.code === RULE);
            assert.ok(d);
            assert.equal(d.severity, 1, 'an error: the link passes --orphan-handling=error');
            assert.deepEqual(predicted(d), real, `the server predicts ld.lld's lines exactly: ${d.message}`);
            // The explorer marks the same orphans, with the link that refuses them and ld.lld's lines.
            const objects = await explorerObjects(lsp, tree);
            const marked = objects.filter((o) => o.status === 'offending');
            assert.deepEqual(marked.map((o) => o.relativePath).sort(), [
              `${VDSO}/vgetrandom.o`,
              `${VDSO}/vgettimeofday.o`,
            ]);
            const problems = marked
              .flatMap((o) => (o.objectProblem ?? '').split('\n'))
              .map((l) => l.replace(/^ld\.lld: error: /, ''));
            assert.deepEqual(problems.sort(), real, "each object carries ld.lld's own error lines");
            for (const o of objects) if (o.stage === 'orphan-link-input') assert.deepEqual(o.linkedInto, [LINK]);
            const secs = await explorerSections(lsp, tree, `${VDSO}/vgettimeofday.o`);
            const bb = secs.filter((x) => x.offending);
            assert.deepEqual(
              bb.map((x) => x.name),
              ['.llvm_bb_addr_map'],
            );
            assert.match(bb[0].offending ?? '', /vdso\.so\.dbg refuses it \(--orphan-handling=error\)/);
            assert.deepEqual(
              bb[0].destinations?.map((x) => `${x.link}:${x.kind}:${x.output}`),
              [`${LINK}:orphan:.llvm_bb_addr_map`],
            );
            // The command line's `sections --json` marks the same sections, through the same layers.
            const cli = spawnSync(
              process.execPath,
              [join(root, 'server', 'out', 'cli.js'), 'sections', '--json', ...marked.map((o) => o.relativePath)],
              { cwd: tree, encoding: 'utf8' },
            );
            assert.equal(cli.status, 0, cli.stderr);
            const listed = JSON.parse(cli.stdout) as {
              links?: { output: string; orphanHandling?: string }[];
              sections: { index: number; name: string; offending?: string }[];
            }[];
            const cliLines = listed.flatMap((f) => {
              assert.deepEqual(
                f.links?.map((l) => `${l.output}:${l.orphanHandling}`),
                [`${LINK}:error`],
              );
              return f.sections.flatMap((x) => (x.offending ? [/ld\.lld: error: (.*)$/.exec(x.offending)?.[1]] : []));
            });
            assert.deepEqual(cliLines.sort(), real, "sections --json: one mark per ld.lld line, with ld.lld's text");
            const actions = await lsp.request<CodeAction[]>('textDocument/codeAction', {
              textDocument: { uri },
              range: d.range,
              context: { diagnostics: [d], only: ['quickfix'] },
            });
            const mine = actions.filter((a) => /section-making flag/.test(a.title));
            assert.equal(mine.length, 1);
            assert.equal(mine[0].isPreferred, true, 'removing the flag is the preferred fix for the vDSO');
            const script = actions.filter((a) => a.title === 'Discard .llvm_bb_addr_map in vdso.lds.S');
            assert.equal(script.length, 1, `the script fix is offered: ${actions.map((a) => a.title).join('; ')}`);
            assert.equal(script[0].isPreferred, false, 'the vDSO links no kernel objects: the flag fix is preferred');
            const ldsPath = join(tree, VDSO, 'vdso.lds.S');
            const ldsPristine = readFileSync(join(tree, VDSO, 'vdso.lds.S.pristine'), 'utf8');
            const scriptPatch = await lsp.request<{ patch: string | null }>('kbuild/makePatch', {
              makefileUri: uri,
              fix: 'script-section',
            });
            assert.ok(scriptPatch.patch?.includes(`diff --git a/${VDSO}/vdso.lds.S b/${VDSO}/vdso.lds.S`));
            assert.ok(scriptPatch.patch?.includes('+\t\t*(.llvm_bb_addr_map)'), scriptPatch.patch ?? '');
            const check = spawnSync('git', ['apply', '--check', '-p1', '-'], {
              cwd: tree,
              input: scriptPatch.patch ?? '',
              encoding: 'utf8',
            });
            assert.equal(check.status, 0, `the patch applies to the tree: ${check.stderr}`);
            // The script fix, as an editor applies it: every file of the action's edit.
            const edited = applyAction(script[0], uri, pristine);
            assert.deepEqual([...edited.keys()], [ldsPath], 'the script fix edits vdso.lds.S, not the Makefile');
            try {
              for (const [file, text] of edited) writeFileSync(file, text);
              const discarded = make(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
              assert.equal(
                discarded.status,
                0,
                `the build passes with the section discarded:\n${discarded.log.slice(-3000)}`,
              );
              assert.deepEqual(lldLines(discarded.log, 'warning'), [], 'and ld.lld reports no orphan');
              assert.ok(
                sectionNames(join(tree, VDSO, 'vgettimeofday.o')).includes('.llvm_bb_addr_map'),
                'the object still has it',
              );
              assert.ok(
                !sectionNames(join(tree, VDSO, 'vdso.so.dbg')).includes('.llvm_bb_addr_map'),
                'the vDSO has it no more',
              );
            } finally {
              writeFileSync(ldsPath, ldsPristine);
            }
            const change = mine[0].edit.documentChanges[0];
            const fixed = applyLspEdits(pristine, change.edits);
            assert.match(
              fixed,
              /^CC_FLAGS_REMOVE_VDSO \+= -fbasic-block-sections=%$/m,
              "extends the directory's own remove list",
            );
            writeFileSync(makefilePath, fixed);
            const passed = make(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
            assert.equal(passed.status, 0, `the real build passes after the fix:\n${passed.log.slice(-3000)}`);
            assert.ok(
              !execFileSync('llvm-readelf-19', ['-S', join(tree, VDSO, 'vdso.so')], { encoding: 'utf8' }).includes(
                'llvm_bb_addr_map',
              ),
            );
            lsp.notify('workspace/didChangeWatchedFiles', {
              changes: [{ uri: `file://${join(tree, VDSO, 'vgettimeofday.o')}`, type: 2 }],
            });
            lsp.change(uri, 2, fixed);
            const after = await lsp.diagnostics(uri, (p) => p.version === 2, 120_000);
            assert.deepEqual(
              after.diagnostics.filter((x) => x.code === RULE || x.code === 'orphan-sections-stale'),
              [],
              'nothing left after the rebuild',
            );
          } finally {
            await lsp.stop();
            writeFileSync(makefilePath, pristine);
          }
        },
      );

      await t.test('CONFIG_WERROR=n: the build passes with ld.lld warnings; the server says warning', async () => {
        configure(tree, false);
        cleanVdso(tree);
        const built = make(tree, [`KCFLAGS=${FLAG}`, `${VDSO}/`]);
        assert.equal(built.status, 0, built.log.slice(-3000));
        const real = lldLines(built.log, 'warning');
        assert.equal(real.length, 2, built.log.slice(-3000));
        const { lsp, diagnostics } = await serverVerdict(tree, makefilePath, pristine, (ds) =>
          ds.some((d) => d.code === RULE),
        );
        try {
          const d = diagnostics.find((x) => x.code === RULE);
          assert.ok(d);
          assert.equal(d.severity, 2, 'a warning, not an error');
          assert.deepEqual(predicted(d), real);
          // The explorer: stages objects -> vdso.so.dbg -> vdso.so, orphans warned (not offending), and
          // every section's destination in the vdso.so.dbg link as ld.lld-19 -Map places it.
          const objects = await explorerObjects(lsp, tree);
          const stageOf = (p: string) => objects.find((o) => o.relativePath === p);
          assert.equal(stageOf(`${VDSO}/vgettimeofday.o`)?.nextStage, 'orphan-link-output');
          assert.equal(stageOf(LINK)?.stage, 'orphan-link-output');
          assert.equal(stageOf(LINK)?.nextStage, 'orphan-link-copy');
          assert.equal(stageOf(`${VDSO}/vdso.so`)?.stage, 'orphan-link-copy');
          assert.ok(
            objects.every((o) => o.status !== 'offending'),
            'a warning level breaks nothing',
          );
          const cmd = readCmdFile(readFileSync(join(tree, VDSO, '.vdso.so.dbg.cmd'), 'utf8'));
          assert.ok(cmd.ok);
          const args = linkArgsOfCmd(cmd.records[0].commands[0].words.map((w) => w.text)).filter(
            (w) => !w.startsWith('--orphan-handling'),
          );
          const oracle = oraclePlacements(tree, args, args.indexOf('-T') + 1);
          const inputs = args.filter((w) => w.endsWith('.o'));
          assert.ok(inputs.length >= 4, args.join(' '));
          let compared = 0;
          for (const object of inputs) {
            const secs = await explorerSections(lsp, tree, object);
            const mine = destinationsIn(object, secs, LINK);
            assert.deepEqual(
              placementDifferences(oracle, object, mine),
              [],
              `${object}: the explorer and ld.lld differ`,
            );
            compared += mine.size;
            for (const s of secs.filter((x) => x.name === '.llvm_bb_addr_map')) {
              assert.equal(s.offending, undefined);
              assert.match(s.warning ?? '', /--orphan-handling=warn/);
            }
          }
          console.log(
            `# explorer: ${compared} input sections of ${inputs.length} objects placed as ld.lld-19 -Map places them`,
          );
        } finally {
          await lsp.stop();
        }
      });

      await t.test('a clean build with no such flag: nothing', async () => {
        configure(tree, true);
        cleanVdso(tree);
        const built = make(tree, [`${VDSO}/`]);
        assert.equal(built.status, 0, built.log.slice(-3000));
        const check = spawnSync(process.execPath, [join(root, 'server', 'out', 'cli.js'), 'check', makefilePath], {
          encoding: 'utf8',
        });
        assert.equal(check.status, 0, `check finds nothing: ${check.stdout}${check.stderr}`);
        assert.equal(check.stdout.trim(), '');
      });
    } finally {
      writeFileSync(makefilePath, pristine);
    }
  },
);
