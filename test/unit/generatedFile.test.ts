// Whether make would keep a Kbuild-generated file or remake it (server/src/kbuild/generatedFile.ts):
// a `.hyp.lds.cmd` in the shape Kbuild writes it (the command, source_, deps_ with fixdep's
// `$(wildcard include/config/...)` entries), file times set explicitly, and each reason make has to
// remake the target: the source newer, a dependency the .cmd lists newer, the command changed, no
// .cmd (the last build did not finish it), no target. Then the script the next build links with
// (kbuild/ldsSource.ts scriptForNextBuild) on a copy of the sample tree: hyp.lds.S preprocessed, and
// the old file called stale, when the recorded command differs or the source is newer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGeneratedFile, cmdFileOf, recordedDeps } from '../../server/src/kbuild/generatedFile';
import { scriptForNextBuild } from '../../server/src/kbuild/ldsSource';
import { root } from '../helpers/kernelTree';

const TARGET = 'arch/arm64/kvm/hyp/nvhe/hyp.lds';
const SOURCE = 'arch/arm64/kvm/hyp/nvhe/hyp.lds.S';
const HEADER = 'arch/arm64/include/asm/hyp_image.h';
const CONFIG_DEP = 'include/config/LTO_CLANG';
const COMMAND = `clang-19 -E -Wp,-MMD,arch/arm64/kvm/hyp/nvhe/.hyp.lds.d -nostdinc -I./arch/arm64/include -D__KERNEL__ -P -Uarm64 -D__ASSEMBLY__ -DLINKER_SCRIPT -o ${TARGET} ${SOURCE}`;

const CMD_TEXT = `cmd_${TARGET} := ${COMMAND}

source_${TARGET} := ${SOURCE}

deps_${TARGET} := \\
  include/linux/kconfig.h \\
    $(wildcard include/config/CPU_BIG_ENDIAN) \\
  ${HEADER} \\
    $(wildcard ${CONFIG_DEP}) \\
    $(wildcard include/config/NOT_SET_ANYWHERE) \\

${TARGET}: $(deps_${TARGET})

$(deps_${TARGET}):
`;

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kbd-generated-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = 1_700_000_000; // seconds
/** A build dir where every file is at T0 and the target at T0 + 10 (made after its inputs). */
function buildDir(name: string): string {
  const dir = join(tmp, name);
  const files = [SOURCE, HEADER, 'include/linux/kconfig.h', 'include/config/CPU_BIG_ENDIAN', CONFIG_DEP];
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), `/* ${f} */\n`);
    utimesSync(join(dir, f), T0, T0);
  }
  writeFileSync(join(dir, TARGET), 'SECTIONS { }\n');
  writeFileSync(join(dir, cmdFileOf(TARGET)), CMD_TEXT);
  utimesSync(join(dir, TARGET), T0 + 10, T0 + 10);
  return dir;
}

const sameCommand = (recorded: string[]): boolean | string =>
  recorded.join(' ') === COMMAND || 'the preprocessor flags differ';

test('recordedDeps: source_ and deps_ entries, $(wildcard ...) unwrapped, each once', () => {
  assert.deepEqual(recordedDeps(CMD_TEXT), [
    SOURCE,
    'include/linux/kconfig.h',
    'include/config/CPU_BIG_ENDIAN',
    HEADER,
    CONFIG_DEP,
    'include/config/NOT_SET_ANYWHERE',
  ]);
  assert.equal(cmdFileOf(TARGET), 'arch/arm64/kvm/hyp/nvhe/.hyp.lds.cmd');
});

test('up to date: every input older, the command the same, a $(wildcard) entry that does not exist', () => {
  const dir = buildDir('uptodate');
  const r = checkGeneratedFile({ buildDir: dir, target: TARGET, commandMatches: sameCommand, prerequisites: [SOURCE] });
  assert.deepEqual(r.reasons, []);
  assert.equal(r.upToDate, true);
  assert.deepEqual(r.recordedCommand?.slice(0, 2), ['clang-19', '-E']);
});

test('the source newer than the target: remade', () => {
  const dir = buildDir('source-newer');
  utimesSync(join(dir, SOURCE), T0 + 20, T0 + 20);
  const r = checkGeneratedFile({ buildDir: dir, target: TARGET, commandMatches: sameCommand, prerequisites: [SOURCE] });
  assert.equal(r.upToDate, false);
  assert.deepEqual(r.reasons, [`${SOURCE} is newer than ${TARGET}`]);
});

test('a header the .cmd lists newer, or a config file of a $(wildcard) entry: remade', () => {
  const header = buildDir('header-newer');
  utimesSync(join(header, HEADER), T0 + 20, T0 + 20);
  const r = checkGeneratedFile({ buildDir: header, target: TARGET, commandMatches: sameCommand });
  assert.equal(r.upToDate, false);
  assert.deepEqual(r.reasons, [`${HEADER} is newer than ${TARGET}`]);

  // fixdep's include/config/<SYMBOL> files are touched when the option changes.
  const config = buildDir('config-newer');
  utimesSync(join(config, CONFIG_DEP), T0 + 20, T0 + 20);
  const c = checkGeneratedFile({ buildDir: config, target: TARGET, commandMatches: sameCommand });
  assert.deepEqual(c.reasons, [`${CONFIG_DEP} is newer than ${TARGET}`]);
});

test('the command changed: remade, with the reason the caller gave', () => {
  const dir = buildDir('command');
  const r = checkGeneratedFile({
    buildDir: dir,
    target: TARGET,
    commandMatches: (words) => !words.includes('-DLINKER_SCRIPT') || 'the build now passes -DEXTRA',
  });
  assert.equal(r.upToDate, false);
  assert.deepEqual(r.reasons, ['the command changed: the build now passes -DEXTRA']);
});

test('no .cmd file (the last build did not finish the target), or no target: not up to date', () => {
  const dir = buildDir('no-cmd');
  rmSync(join(dir, cmdFileOf(TARGET)));
  const r = checkGeneratedFile({ buildDir: dir, target: TARGET, prerequisites: [SOURCE] });
  assert.equal(r.upToDate, false);
  assert.match(r.reasons[0], /\.hyp\.lds\.cmd cannot be read: the last build did not finish this target/);

  const gone = buildDir('no-target');
  rmSync(join(gone, TARGET));
  const g = checkGeneratedFile({ buildDir: gone, target: TARGET });
  assert.equal(g.upToDate, false);
  assert.match(g.reasons[0], /does not exist/);
});

test('scriptForNextBuild: hyp.lds.S when the command changed or the source is newer; the old hyp.lds is stale', () => {
  const tree = join(tmp, 'sample');
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), tree, { recursive: true, verbatimSymlinks: true });
  const build = join(tree, 'build');
  const lds = join(build, TARGET);
  // The sample's hyp.lds, made after its source.
  utimesSync(join(tree, SOURCE), T0, T0);
  utimesSync(lds, T0 + 10, T0 + 10);
  // The sample's .hyp.lds.cmd records a command without the tree's -I and -include flags, which
  // Kbuild passes now: make would remake it, though it is newer than its source. (The real build's
  // recorded command is judged unchanged in test/kernel/staleLds.test.ts.)
  const kept = scriptForNextBuild(tree, build, TARGET);
  assert.ok(kept);
  assert.equal(kept.from, 'preprocessed');
  assert.deepEqual(kept.reasons, ['the command changed: its preprocessor flags differ from what Kbuild passes now']);
  assert.equal(kept.stale, true);

  // The source edited after the build: the next build uses it, and the old hyp.lds is stale evidence.
  writeFileSync(
    join(tree, SOURCE),
    readFileSync(join(tree, SOURCE), 'utf8').replace(/}\s*$/, '\t/DISCARD/ : { *(.llvm.call-graph-profile) }\n}\n'),
  );
  utimesSync(join(tree, SOURCE), T0 + 20, T0 + 20);
  const next = scriptForNextBuild(tree, build, TARGET);
  assert.ok(next);
  assert.equal(next.from, 'preprocessed');
  assert.equal(next.stale, true);
  assert.ok(next.reasons.includes(`${join(tree, SOURCE)} is newer than ${TARGET}`), JSON.stringify(next.reasons));
  assert.match(next.text, /\/DISCARD\/ : \{ \*\(\.llvm\.call-graph-profile\) \}/);
  assert.ok(!readFileSync(lds, 'utf8').includes('/DISCARD/'), 'the old hyp.lds is left as it was');

  // No generated file at all: the source, not called stale.
  rmSync(lds);
  const fresh = scriptForNextBuild(tree, build, TARGET);
  assert.equal(fresh?.from, 'preprocessed');
  assert.equal(fresh?.stale, false);
});
