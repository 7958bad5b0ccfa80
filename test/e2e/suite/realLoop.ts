// Suite on the session's own copy of the real Linux 6.1 tree of scripts/build-nvhe.sh (nvhe built by
// clang-19 with a sample profile, form A deleted, gen-hyprel failed): the build loop in the editor.
// The extension's task "Kbuild: build arch/arm64/kvm/hyp/nvhe/" runs through VS Code's task system and
// fails; Problems holds gen-hyprel's error (the $kbuild-objects matcher) next to the rule's diagnosis;
// form A is applied through its code action and saved; the task runs again, passes, and the matcher's
// error and the rule's findings are gone. This suite saves a file and rebuilds: the harness gives it a
// copy of the shared tree (test/e2e/run.mjs, realLoopTree) and checks afterwards that the shared tree
// did not change.
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  Suite,
  assert,
  NVHE_MAKEFILE,
  SOURCE,
  activeExtension,
  applyAction,
  codeValue,
  describeDiagnostics,
  filterOutWords,
  findLine,
  logicalLines,
  nvheDiagnostic,
  offeredFixes,
  openDoc,
  ours,
  quickFixes,
  waitFor,
  workspaceRoot,
  wsUri,
} from './lib';

const TASK_TYPE = 'kbuild';
/** The problem matchers' source (package.json `problemMatchers`, `source`). */
const MATCHER_SOURCE = 'kbuild';
const NVHE_DIR = 'arch/arm64/kvm/hyp/nvhe';
const GEN_HYPREL_INPUT = `${NVHE_DIR}/kvm_nvhe.tmp.o`;
const FIX_A = 'Filter profile-use flags out of KBUILD_CFLAGS';
const REBUILD_COMMAND = 'kbuildDiagnostics.rebuild';
/** A build of the nvhe directory on a busy 2-core machine: ~20 s quiet, several times that under load. */
const BUILD_TIMEOUT_MS = 300_000;

function matcherProblems(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === MATCHER_SOURCE);
}

/** Every problem the matchers hold, in any file. */
function allMatcherProblems(): [vscode.Uri, vscode.Diagnostic][] {
  return vscode.languages
    .getDiagnostics()
    .flatMap(([u, ds]) =>
      ds.filter((d) => d.source === MATCHER_SOURCE).map((d) => [u, d] as [vscode.Uri, vscode.Diagnostic]),
    );
}

function describeAll(): string {
  return describeDiagnostics();
}

/** The extension's build task of the nvhe directory, as VS Code's task system lists it (asked until listed). */
async function nvheTask(): Promise<vscode.Task> {
  let last: string[] = [];
  return waitFor(
    async () => {
      const tasks = await vscode.tasks.fetchTasks({ type: TASK_TYPE });
      last = tasks.map((t) => `${t.source}: ${t.name} (${JSON.stringify(t.definition)})`);
      return tasks.find((t) => t.definition.type === TASK_TYPE && t.definition.directory === `${NVHE_DIR}/`);
    },
    `a ${TASK_TYPE} task for ${NVHE_DIR}/ from vscode.tasks.fetchTasks`,
    60_000,
    () => `tasks listed: ${JSON.stringify(last)}\n${describeAll()}`,
  );
}

function commandLine(task: vscode.Task): { process: string; args: string[]; cwd?: string } {
  const ex = task.execution;
  assert.ok(ex instanceof vscode.ProcessExecution, `the task runs a process (execution: ${JSON.stringify(ex)})`);
  return { process: ex.process, args: ex.args, cwd: ex.options?.cwd };
}

/**
 * Runs `task` through VS Code's task system and resolves with its process's exit code, once the task
 * system reports the process ended (onDidEndTaskProcess); bounded. A task that ends without a process
 * (it could not start) is a failure.
 */
async function runTask(task: vscode.Task, timeoutMs = BUILD_TIMEOUT_MS): Promise<{ exitCode: number; ms: number }> {
  const t0 = Date.now();
  const mine = (e: { execution: vscode.TaskExecution }) =>
    e.execution.task.definition.type === TASK_TYPE && e.execution.task.name === task.name;
  const disposables: vscode.Disposable[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    // Listening before the task starts: its end cannot be missed.
    const ended = new Promise<number>((resolve, reject) => {
      let processEnd: number | undefined;
      disposables.push(
        vscode.tasks.onDidEndTaskProcess((e) => {
          if (!mine(e)) return;
          if (e.exitCode === undefined) reject(new Error(`${task.name}: the process ended without an exit code`));
          else {
            processEnd = e.exitCode;
            resolve(e.exitCode);
          }
        }),
        vscode.tasks.onDidEndTask((e) => {
          if (mine(e) && processEnd === undefined)
            reject(new Error(`${task.name}: the task ended without a process end (did it start? make on PATH?)`));
        }),
      );
      timer = setTimeout(() => reject(new Error(`${task.name} did not end within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    await vscode.tasks.executeTask(task);
    const exitCode = await ended;
    return { exitCode, ms: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
    for (const d of disposables) d.dispose();
  }
}

/** The matcher's gen-hyprel problem on kvm_nvhe.tmp.o, waited for. */
function genHyprelProblem(object: vscode.Uri, timeoutMs = 30_000): Promise<vscode.Diagnostic> {
  return waitFor(
    () =>
      matcherProblems(object).find((d) => d.severity === vscode.DiagnosticSeverity.Error && /SHT_REL/.test(d.message)),
    `the ${MATCHER_SOURCE} problem matcher's gen-hyprel error on ${GEN_HYPREL_INPUT}`,
    timeoutMs,
    describeAll,
  );
}

export async function run(): Promise<void> {
  const s = new Suite('real-loop');
  const root = () => workspaceRoot().fsPath;
  const makefile = wsUri(NVHE_MAKEFILE);
  const object = wsUri(GEN_HYPREL_INPUT);
  const hypReloc = () => path.join(root(), NVHE_DIR, 'hyp-reloc.S');
  let doc: vscode.TextDocument | undefined;
  let firstExit: number | undefined;

  s.test('the copy holds the failed build (kvm_nvhe.tmp.o, no hyp-reloc.S), with autosave off', () => {
    assert.ok(existsSync(path.join(root(), GEN_HYPREL_INPUT)), 'kvm_nvhe.tmp.o was built');
    assert.ok(!existsSync(hypReloc()), 'hyp-reloc.S is absent (gen-hyprel failed)');
    // This suite saves once, on purpose; nothing else may reach the disk on its own.
    assert.equal(vscode.workspace.getConfiguration('files').get('autoSave'), 'off');
  });

  s.test(
    'the extension activates; the rule reports nvhe-profile-metadata on the nvhe Makefile',
    async () => {
      await activeExtension(90_000);
      doc = await openDoc(NVHE_MAKEFILE);
      await nvheDiagnostic(makefile, 90_000);
    },
    120_000,
  );

  s.test(
    'run 1: "Kbuild: build arch/arm64/kvm/hyp/nvhe/" through the task API fails; Problems holds gen-hyprel\'s error next to the rule\'s diagnostic',
    async () => {
      const task = await nvheTask();
      assert.equal(task.source, 'Kbuild');
      assert.deepEqual(task.problemMatchers, ['$kbuild', '$kbuild-objects']);
      const cmd = commandLine(task);
      assert.equal(cmd.process, 'make');
      assert.equal(cmd.cwd, root(), 'make runs in the kernel tree');
      // The user's flags come back from the recorded build: the build fails as the user's did.
      assert.ok(
        cmd.args.some((a) => a.startsWith('KCFLAGS=') && a.includes('-fprofile-sample-use=')),
        `KCFLAGS with the profile: ${JSON.stringify(cmd.args)}`,
      );
      assert.equal(cmd.args[cmd.args.length - 1], `${NVHE_DIR}/`);
      const { exitCode, ms } = await runTask(task);
      console.log(`[e2e:real-loop] run 1: make ${cmd.args.join(' ')} exited ${exitCode} after ${ms} ms`);
      firstExit = exitCode;
      assert.notEqual(exitCode, 0, 'the build fails before the fix');
      assert.ok(!existsSync(hypReloc()), 'gen-hyprel wrote no hyp-reloc.S');
      const problem = await genHyprelProblem(object);
      assert.ok(problem.message.includes('Unexpected SHT_REL section'), problem.message);
      // The rule's diagnosis: on the Makefile line, and on the object the matcher's problem is on.
      const rule = await nvheDiagnostic(makefile);
      assert.equal(rule.severity, vscode.DiagnosticSeverity.Error);
      // (Published per make file: the tree's Makefile.prefix, build-nvhe.sh's copy of the pre-fix Makefile,
      // is analyzed too and may publish its own; the one wanted is the Makefile's.)
      const pointsAtRule = (d: vscode.Diagnostic) =>
        codeValue(d.code) === codeValue(rule.code) &&
        !!d.relatedInformation?.some(
          (r) =>
            r.location.uri.toString() === makefile.toString() && r.location.range.start.line === rule.range.start.line,
        );
      const why = await waitFor(
        () => ours(object).find(pointsAtRule),
        `the rule's diagnosis on ${GEN_HYPREL_INPUT}, next to the matcher's problem, pointing at ${NVHE_MAKEFILE}:${rule.range.start.line + 1}`,
        30_000,
        () =>
          `${describeDiagnostics(object)}\nrelated: ${JSON.stringify(ours(object).map((d) => d.relatedInformation?.[0]?.location.uri.fsPath))}`,
      );
      assert.ok(why.message.startsWith('Why the build printed'), why.message);
      assert.ok(matcherProblems(object).length > 0 && ours(object).length > 0, 'both in one Problems group');
      // make's `Error 1` line (the hyprel recipe of the Makefile) is matched by $kbuild too, but VS Code
      // 1.139 may drop the last file's problems of a task that exits at once: 100 ms after the process
      // exits it delivers what its collector has and stops, without waiting for the lines whose file is
      // still being resolved (autoDetect stats it through the remote file system). Under load that is
      // this line, the last one matched. Reported, not asserted (see docs/e2e.md).
      assert.ok(doc, 'the Makefile was opened');
      const recipe = findLine(doc.getText(), /^\s+\$\(call if_changed,hyprel\)/);
      const error1 = matcherProblems(makefile).some(
        (d) => d.range.start.line === recipe && /\] Error 1$/.test(d.message),
      );
      console.log(
        `[e2e:real-loop] make's Error 1 on ${NVHE_MAKEFILE}:${recipe + 1} in Problems: ${error1 ? 'yes' : 'no (not delivered by VS Code, see docs/e2e.md)'}`,
      );
    },
    BUILD_TIMEOUT_MS + 60_000,
  );

  s.test('form A through its code action, saved: the Makefile on disk filters the profile flags', async () => {
    assert.ok(doc, 'the Makefile was opened');
    assert.ok(firstExit !== undefined && firstExit !== 0, 'run 1 failed');
    const before = doc.getText();
    const actions = await offeredFixes(doc, [FIX_A]);
    const a = actions.find((x) => x.title.startsWith(FIX_A));
    assert.ok(a, JSON.stringify(actions.map((x) => x.title)));
    await applyAction(a, doc);
    assert.ok(await doc.save(), 'save returned false');
    await waitFor(() => !doc?.isDirty, 'the Makefile to be saved', 20_000);
    const onDisk = readFileSync(makefile.fsPath, 'utf8');
    assert.equal(onDisk, doc.getText(), 'the disk holds the edited text');
    assert.notEqual(onDisk, before);
    const words = logicalLines(onDisk.split('\n'))
      .map(filterOutWords)
      .filter((w): w is string[] => !!w)
      .find((w) => w.includes('-fprofile-sample-use=%'));
    assert.ok(words, 'a filter-out of -fprofile-sample-use=% is in the saved Makefile');
    // The evidence is from the build before the fix: the rule says so and offers the rebuild.
    const stale = await waitFor(
      () => ours(makefile).find((d) => codeValue(d.code) === 'nvhe-stale-build'),
      'the rule to say "rebuild to confirm" (nvhe-stale-build) after the fix',
      60_000,
      () => describeDiagnostics(makefile),
    );
    assert.ok(
      !ours(makefile).some((d) => codeValue(d.code) === 'nvhe-profile-metadata'),
      `the leak is gone from the Makefile:\n${describeDiagnostics(makefile)}`,
    );
    const rebuild = await waitFor(
      async () => (await quickFixes(makefile, stale)).find((x) => x.command?.command === REBUILD_COMMAND),
      'the "Rebuild ... to confirm" code action on the stale diagnostic',
      30_000,
    );
    assert.match(rebuild.title, /^Rebuild arch\/arm64\/kvm\/hyp\/nvhe\/ to confirm/);
  });

  s.test(
    "run 2: the task again exits 0; the matcher's gen-hyprel error and the rule's findings are gone",
    async () => {
      assert.ok(doc && !doc.isDirty, 'the fix was saved');
      const task = await nvheTask();
      const cmd = commandLine(task);
      assert.ok(
        cmd.args.some((a) => a.startsWith('KCFLAGS=') && a.includes('-fprofile-sample-use=')),
        `the same user flags: the fix, not a changed command, makes it pass: ${JSON.stringify(cmd.args)}`,
      );
      const { exitCode, ms } = await runTask(task);
      console.log(`[e2e:real-loop] run 2: make ${cmd.args.join(' ')} exited ${exitCode} after ${ms} ms`);
      assert.equal(exitCode, 0, `the build passes after form A\n${describeAll()}`);
      assert.ok(existsSync(hypReloc()), 'gen-hyprel wrote hyp-reloc.S');
      assert.ok(existsSync(path.join(root(), NVHE_DIR, 'kvm_nvhe.o')), 'kvm_nvhe.o was linked');
      await waitFor(
        () => allMatcherProblems().length === 0,
        'the problem matchers to hold no problem after the passing build',
        30_000,
        describeAll,
      );
      await waitFor(
        () =>
          !ours(makefile).some((d) => String(codeValue(d.code)).startsWith('nvhe-')) &&
          !ours(object).some((d) => String(codeValue(d.code)).startsWith('nvhe-')),
        `the rule's findings (${SOURCE}, nvhe-*) to be gone from the Makefile and the object after the rebuild`,
        90_000,
        describeAll,
      );
    },
    BUILD_TIMEOUT_MS + 120_000,
  );

  await s.run();
}
