// Real Kbuild build logs (test/fixtures/build-logs/, captured by scripts/capture-build-logs.sh) fed to
// the problem matchers package.json contributes, with VS Code's own matching rules
// (test/helpers/problemMatcher.ts, ported from microsoft/vscode): every problem VS Code would show,
// with its file (resolved as VS Code resolves it, and present in the tree), line, column, severity
// and message, and nothing else. The logs' trees are mapped to this machine's: each log's manifest
// records the source tree and build directory it ran in; sources are read from the pristine Debian
// tree (scripts/kernel-tree.sh), build outputs from the files committed beside the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { root, kernelTree, skipUnlessKernel } from '../helpers/kernelTree';
import { bufferSource } from '../../server/src/elf/source';
import { readObject } from '../../server/src/elf/reader';
import { SHT_REL } from '../../server/src/elf/types';
import { collectProblems, contributedMatchers, resolveMatcher, type Matcher } from '../helpers/problemMatcher';

const LOGS = join(root, 'test', 'fixtures', 'build-logs');
const TASK_VARIABLE = 'command:kbuildDiagnostics.buildDirectoryForTasks';

interface Manifest {
  log: string;
  cwd: string;
  srctree: string;
  objtree: string;
  status: number;
  command: string;
}

/** Where a problem's file is: the source tree, the build directory, or the tree (in-tree build). */
type Root = 'src' | 'obj' | 'tree';
interface Expected {
  root: Root;
  path: string;
  line: number;
  column: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  contributes: Parameters<typeof contributedMatchers>[0];
};
const matchers = contributedMatchers(pkg.contributes);
/** What the task provider attaches, in this order: the location matcher, then the objects one. */
const KBUILD = ['kbuild', 'kbuild-objects'].map((n) => {
  const m = matchers.get(n);
  assert.ok(m, `package.json contributes $${n}`);
  return m;
});

function manifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(LOGS, `${name}.json`), 'utf8')) as Manifest;
}

/** Files committed beside a log: what the build left in its build directory, sources the capture edited. */
interface Committed {
  obj?: string;
  src?: string;
}

/** The recorded roots mapped to local directories, in lookup order (the build directory first: it may lie in the source). */
function localRoots(m: Manifest, version: string, committed: Committed): [string, string[]][] {
  const tree = kernelTree(version);
  if (!('path' in tree)) throw new Error(tree.missing);
  const dirs = (d: string | undefined) => (d ? [join(LOGS, d)] : []);
  if (m.objtree === m.srctree) return [[m.srctree, [...dirs(committed.obj), ...dirs(committed.src), tree.path]]];
  return [
    [m.objtree, dirs(committed.obj)],
    [m.srctree, [...dirs(committed.src), tree.path]],
  ];
}

function local(p: string, roots: [string, string[]][]): string | undefined {
  for (const [recorded, dirs] of roots) {
    if (!p.startsWith(`${recorded}/`)) continue;
    const rel = p.slice(recorded.length + 1);
    // A committed build file may be stored gzipped (name.gz).
    for (const d of dirs) for (const c of [join(d, rel), join(d, `${rel}.gz`)]) if (existsSync(c)) return c;
    return undefined;
  }
  return existsSync(p) ? p : undefined;
}

function run(name: string, version: string, committed: Committed = {}) {
  const m = manifest(name);
  const roots = localRoots(m, version, committed);
  const fs = {
    exists: (p: string) => local(p, roots) !== undefined,
    readdir: (p: string) =>
      readdirSync(local(p, roots) ?? p).map((n) => ({ name: n, directory: statSync(join(p, n)).isDirectory() })),
  };
  // As the task system resolves them when the task starts: our command answers the build directory.
  const resolved: Matcher[] = KBUILD.map((x) =>
    resolveMatcher(x, { [TASK_VARIABLE]: m.objtree, workspaceFolder: m.srctree }),
  );
  const log = readFileSync(join(LOGS, m.log), 'utf8');
  const problems = collectProblems(log, resolved, fs);
  const rootOf = (p: string): { root: Root; path: string } => {
    if (m.objtree === m.srctree && p.startsWith(`${m.srctree}/`))
      return { root: 'tree', path: p.slice(m.srctree.length + 1) };
    if (p.startsWith(`${m.objtree}/`)) return { root: 'obj', path: p.slice(m.objtree.length + 1) };
    if (p.startsWith(`${m.srctree}/`)) return { root: 'src', path: p.slice(m.srctree.length + 1) };
    throw new Error(`${p} is in neither tree of ${name}`);
  };
  const seen: Expected[] = problems.map((p) => ({
    ...rootOf(p.resource),
    line: p.marker.startLineNumber,
    column: p.marker.startColumn,
    severity: p.marker.severity,
    message: p.marker.message,
  }));
  for (const p of problems) {
    assert.equal(p.owner, 'kbuild');
    assert.equal(p.marker.source, 'kbuild');
    assert.ok(local(p.resource, roots), `${name}: ${p.resource} (from "${p.line}") exists in the tree`);
  }
  return { manifest: m, problems, seen, roots, log };
}

/** The text of line `n` (1-based) of a file the problem resolved to. */
function lineOf(file: string, n: number): string {
  return readFileSync(file, 'utf8').split('\n')[n - 1];
}

const VDSO = 'arch/arm64/kernel/vdso';
const ORPHAN = (o: string) => `${VDSO}/${o}:(.llvm_bb_addr_map) is being placed in '.llvm_bb_addr_map'`;

test(
  'O= 6.12 arm64 vDSO, CONFIG_WERROR=y: the orphan errors on the objects in the build directory, the link failure on its Makefile line',
  { skip: skipUnlessKernel('6.12') },
  () => {
    const r = run('vdso-orphans-6.12-O', '6.12', { obj: 'vdso-orphans-6.12-O.build' });
    assert.notEqual(r.manifest.status, 0, 'the build failed');
    assert.deepEqual(r.seen, [
      {
        root: 'obj',
        path: `${VDSO}/vgettimeofday.o`,
        line: 0,
        column: 0,
        severity: 'error',
        message: ORPHAN('vgettimeofday.o'),
      },
      {
        root: 'obj',
        path: `${VDSO}/vgetrandom.o`,
        line: 0,
        column: 0,
        severity: 'error',
        message: ORPHAN('vgetrandom.o'),
      },
      {
        root: 'src',
        path: `${VDSO}/Makefile`,
        line: 64,
        column: 1,
        severity: 'error',
        message: `make[3]: *** [${r.manifest.srctree}/${VDSO}/Makefile:64: ${VDSO}/vdso.so.dbg] Error 1`,
      },
    ]);
    // The Makefile line make names is the recipe that links vdso.so.dbg.
    const makefile = local(r.problems[2].resource, r.roots);
    assert.ok(makefile);
    assert.match(lineOf(makefile, 64), /^\t\$\(call if_changed,vdsold_and_vdso_check\)/);
    // make's `Error 2` lines (each sub-make above the failure) are not problems of their own.
    assert.equal((r.log.match(/\] Error 2$/gm) ?? []).length, 3);
  },
);

test(
  'O= 6.12 arm64 vDSO, CONFIG_WERROR=n: the same orphans are warnings and the build passes',
  { skip: skipUnlessKernel('6.12') },
  () => {
    const r = run('vdso-orphans-6.12-O-nowerror', '6.12', { obj: 'vdso-orphans-6.12-O.build' });
    assert.equal(r.manifest.status, 0);
    assert.deepEqual(r.seen, [
      {
        root: 'obj',
        path: `${VDSO}/vgettimeofday.o`,
        line: 0,
        column: 0,
        severity: 'warning',
        message: ORPHAN('vgettimeofday.o'),
      },
      {
        root: 'obj',
        path: `${VDSO}/vgetrandom.o`,
        line: 0,
        column: 0,
        severity: 'warning',
        message: ORPHAN('vgetrandom.o'),
      },
    ]);
  },
);

test(
  'O= 6.12 inside the source tree: clang errors, a note and a warning at ../ paths into the source, the failed compile on its Makefile line',
  { skip: skipUnlessKernel('6.12') },
  () => {
    const r = run('clang-error-6.12-O', '6.12', { src: 'clang-error-6.12-O.src' });
    assert.equal(
      r.manifest.objtree,
      `${r.manifest.srctree}/build`,
      'O= is a subdirectory of the source: srctree is ..',
    );
    const c = `${VDSO}/vgettimeofday.c`;
    assert.deepEqual(r.seen, [
      {
        root: 'src',
        path: c,
        line: 33,
        column: 6,
        severity: 'error',
        message: "conflicting types for 'kbd_fixture_decl'",
      },
      { root: 'src', path: c, line: 32, column: 5, severity: 'info', message: 'previous declaration is here' },
      {
        root: 'src',
        path: c,
        line: 34,
        column: 43,
        severity: 'warning',
        message: "unused variable 'unused' [-Wunused-variable]",
      },
      { root: 'src', path: c, line: 35, column: 51, severity: 'error', message: "expected ';' after return statement" },
      {
        root: 'src',
        path: 'scripts/Makefile.build',
        line: 234,
        column: 1,
        severity: 'error',
        message: `make[2]: *** [../scripts/Makefile.build:234: ${VDSO}/vgettimeofday.o] Error 1`,
      },
    ]);
    // Each line and column is where clang points: the compiled file's text there.
    const file = local(r.problems[0].resource, r.roots);
    assert.ok(file);
    assert.equal(lineOf(file, 33).slice(5, 21), 'kbd_fixture_decl');
    assert.ok(lineOf(file, 35).slice(0, 50).endsWith('return 0'), 'the missing ; goes right after return 0');
    const makefile = local(r.problems[4].resource, r.roots);
    assert.ok(makefile);
    assert.match(lineOf(makefile, 234), /^\t\$\(call if_changed_rule,cc_o_c\)/);
  },
);

const NVHE = 'arch/arm64/kvm/hyp/nvhe';

test(
  "in-tree 6.1 nvhe build: gen-hyprel's error on the object it rejected, the failed step on its nvhe Makefile line",
  { skip: skipUnlessKernel('6.1') },
  async () => {
    const r = run('nvhe-6.1-intree', '6.1', { obj: 'nvhe-6.1-intree.build' });
    assert.notEqual(r.manifest.status, 0, 'the build failed');
    assert.equal(r.manifest.objtree, r.manifest.srctree, 'an in-tree build: paths are relative to the tree');
    const hyprel = `${NVHE}/kvm_nvhe.tmp.o: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"`;
    assert.ok(r.log.split('\n').includes(`error: ${hyprel}`), "the log holds gen-hyprel's line as it printed it");
    assert.deepEqual(r.seen, [
      { root: 'tree', path: `${NVHE}/kvm_nvhe.tmp.o`, line: 0, column: 0, severity: 'error', message: hyprel },
      {
        root: 'tree',
        path: `${NVHE}/Makefile`,
        line: 67,
        column: 1,
        severity: 'error',
        message: `make[5]: *** [${NVHE}/Makefile:67: ${NVHE}/hyp-reloc.S] Error 1`,
      },
    ]);
    // The object the problem opens is the one the build linked: it holds the SHT_REL section gen-hyprel names.
    const object = local(r.problems[0].resource, r.roots);
    assert.ok(object?.endsWith('.gz'), `${object} is the committed object`);
    if (!object) return;
    const parsed = await readObject(bufferSource(gunzipSync(readFileSync(object))));
    assert.equal(parsed.kind, 'elf');
    if (parsed.kind !== 'elf') return;
    const rel = parsed.elf.sections.find((x) => x.name === '.rel.llvm.call-graph-profile');
    assert.equal(rel?.type, SHT_REL, 'the section is SHT_REL');
    // The Makefile line make names is the recipe that runs gen-hyprel. The build's Makefile was the
    // tree's with the profile filter-out lines deleted (scripts/build-nvhe.sh): all of them lie after
    // line 67, so the pristine tree's line 67 is the build's.
    const makefile = local(r.problems[1].resource, r.roots);
    assert.ok(makefile);
    assert.match(lineOf(makefile, 67), /^\t\$\(call if_changed,hyprel\)/);
    assert.ok(lineOf(makefile, 66).startsWith('$(obj)/hyp-reloc.S:'), 'line 67 is the recipe of hyp-reloc.S');
    const lines = readFileSync(makefile, 'utf8').split('\n');
    assert.ok(
      lines.slice(0, 67).every((l) => !l.includes('profile')),
      'no line the capture deleted comes before line 67',
    );
    // make's `Error 2` lines (each sub-make above the failure) are not problems of their own.
    assert.equal((r.log.match(/\] Error 2$/gm) ?? []).length, 5);
  },
);

test('package.json holds the matchers scripts/problem-matchers.mjs composes', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'problem-matchers.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});
