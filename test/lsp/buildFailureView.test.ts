// One view of a failure, through the real server over LSP stdio: the build's own error lines (a real
// log, test/fixtures/build-logs/) go through the contributed problem matchers with VS Code's rules
// (test/helpers/problemMatcher.ts); on each file they name, the server publishes the rule's diagnosis
// at the same place, with the Makefile line and its quick fixes as the first related location.
// The build directory is rebuilt from the files the failed build left (committed beside the log:
// its objects, .cmd files, the preprocessed linker script and the configuration); the source is the
// pristine Debian tree. No kernel is built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspClient, type LspDiagnostic } from '../helpers/lspClient';
import { kernelTree, root, skipUnlessKernel } from '../helpers/kernelTree';
import { collectProblems, contributedMatchers, resolveMatcher } from '../helpers/problemMatcher';

const LOGS = join(root, 'test', 'fixtures', 'build-logs');
const VDSO = 'arch/arm64/kernel/vdso';

function matchersFor(buildDir: string, workspace: string) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: Parameters<typeof contributedMatchers>[0];
  };
  const all = contributedMatchers(pkg.contributes);
  return ['kbuild', 'kbuild-objects'].map((n) => {
    const m = all.get(n);
    assert.ok(m);
    return resolveMatcher(m, {
      'command:kbuildDiagnostics.buildDirectoryForTasks': buildDir,
      workspaceFolder: workspace,
    });
  });
}

/** A build directory made of the committed build files (gzipped ones unpacked) and Kbuild's `source` link. */
function buildDirFrom(committed: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-build-'));
  cpSync(join(LOGS, committed), dir, { recursive: true });
  const gz = join(dir, 'include', 'config', 'auto.conf.gz');
  writeFileSync(gz.slice(0, -3), gunzipSync(readFileSync(gz)));
  rmSync(gz);
  symlinkSync(source, join(dir, 'source'));
  return dir;
}

test(
  'O= 6.12 vDSO orphan errors: each object the matcher reports carries the rule diagnosis, pointing at the Makefile line and its fix',
  { skip: skipUnlessKernel('6.12'), timeout: 300_000 },
  async () => {
    const tree = kernelTree('6.12');
    assert.ok('path' in tree);
    const build = buildDirFrom('vdso-orphans-6.12-O.build', tree.path);
    const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
    try {
      // What VS Code shows from the build's log: one problem per object, on the object in the build directory.
      const log = readFileSync(join(LOGS, 'vdso-orphans-6.12-O.log'), 'utf8');
      const all = collectProblems(log, matchersFor(build, tree.path), { exists: existsSync });
      const problems = all.filter((p) => p.resource.endsWith('.o'));
      // make's line names the Makefile by the source path the build had (absolute in this log).
      const makeLine = all.find((p) => p.resource.endsWith(`/${VDSO}/Makefile`));
      assert.ok(makeLine);
      assert.deepEqual(
        problems.map((p) => p.resource),
        [`${build}/${VDSO}/vgettimeofday.o`, `${build}/${VDSO}/vgetrandom.o`],
      );

      await lsp.initialize(build, { buildDirectory: build }, {});
      const waits = problems.map((p) =>
        lsp.diagnostics(pathToFileURL(p.resource).toString(), (d) => d.diagnostics.length > 0, 120_000),
      );
      const makefile = join(tree.path, VDSO, 'Makefile');
      const makefileUri = pathToFileURL(makefile).toString();
      const ruleWait = lsp.diagnostics(
        makefileUri,
        (d) => d.diagnostics.some((x) => x.code === 'orphan-sections'),
        120_000,
      );
      lsp.open(makefile, readFileSync(makefile, 'utf8'));
      const rule = (await ruleWait).diagnostics.find((x) => x.code === 'orphan-sections') as LspDiagnostic;
      assert.equal(rule.severity, 1);
      // In the Makefile's group of Problems, the rule's diagnosis sits on the line make names.
      assert.equal(rule.range.start.line + 1, makeLine.marker.startLineNumber);

      for (const [i, p] of problems.entries()) {
        const published = await waits[i];
        assert.equal(published.diagnostics.length, 1, `one diagnosis on ${p.resource}`);
        const d = published.diagnostics[0];
        // Where the matcher puts its problem (a file-kind problem: the start of the file).
        assert.deepEqual(d.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
        assert.equal(p.marker.startLineNumber, 0);
        assert.equal(d.severity, 1, 'an error, as the build says');
        assert.equal(p.marker.severity, 'error');
        assert.equal(d.code, 'orphan-sections');
        assert.ok(d.message.includes(`"${p.marker.message}"`), `names the build's own line: ${d.message}`);
        assert.ok(d.message.endsWith(rule.message), "and says the rule's diagnosis");
        const first = d.relatedInformation?.[0];
        assert.ok(first);
        assert.equal(first.location.uri, makefileUri, 'the first related location is the Makefile');
        assert.deepEqual(first.location.range, rule.range, 'at the line the rule diagnoses, where its quick fixes are');
        assert.match(first.message, /quick fixes there: .*section-making flag/);
      }
      // The quick fix is really offered at that line.
      const actions = await lsp.request<{ title: string }[]>('textDocument/codeAction', {
        textDocument: { uri: makefileUri },
        range: rule.range,
        context: { diagnostics: [rule], only: ['quickfix'] },
      });
      assert.ok(actions.some((a) => /section-making flag/.test(a.title)));
    } finally {
      await lsp.stop();
      rmSync(build, { recursive: true, force: true });
    }
  },
);
