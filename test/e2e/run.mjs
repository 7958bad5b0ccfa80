// End-to-end tests in the real VS Code (code-server's workbench + VS Code server, driven by
// Playwright on Debian's chromium). `npm run test:e2e [-- SESSION...]`; see docs/e2e.md.
//
// Each session: a fresh temp copy of its workspace, its own VS Code server (under setsid, killed by
// process group), its own browser profile. The workbench opens with extensionDevelopmentPath = this
// repo and extensionTestsPath = the bundled suite; the suite runs in the real extension host, then
// (sample session) holds the extension host alive while Playwright checks the UI on the same page,
// then settles and the workbench calls codeAutomationExit(code). Exit status is non-zero on any failure.
// The first session, `start`, is the README's main command as a user runs it (test/e2e/start.mjs);
// it runs before anything else installs VS Code, so with an empty KBD_VSCODE_CACHE (CI) it is the
// cold first start.
// Pictures (failures, the README screenshot) go to out/e2e-artifacts/ (not tracked), or
// $KBD_E2E_ARTIFACTS; `npm run screenshot` (--update-screenshot) runs the sessions that take the
// README's pictures (sample, real-config) and copies each over its test/e2e/artifacts/<name>.png.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  cacheDir,
  ensureInstall,
  killAllServersNow,
  remoteUri,
  reporterFor,
  repoRoot,
  requireChromium,
  startServer,
  vscodeVersion,
  workbenchUrl,
  writeUserSettings,
} from '../../scripts/vscode-web.mjs';
import { PhaseError } from '../../scripts/progress.mjs';
import { startCommandTest } from './start.mjs';
import { sampleUiChecks } from './ui.mjs';
import { configUiChecks } from './configUi.mjs';

const e2eDir = join(repoRoot, 'test', 'e2e');
const outDir = join(e2eDir, 'out');
const artifacts = process.env.KBD_E2E_ARTIFACTS || join(repoRoot, 'out', 'e2e-artifacts');
const updateScreenshot = process.argv.includes('--update-screenshot');
const sampleTree = join(repoRoot, 'test', 'fixtures', 'sample-kernel');
const onCi = process.env.CI === 'true';
const keep = process.argv.includes('--keep');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const t0 = Date.now();
const secs = (since) => `${((Date.now() - since) / 1000).toFixed(1)}s`;
const say = (s) => console.log(`[e2e] ${s}`);

/**
 * Sessions: which folder the workbench opens and which suite runs there; `ui`: Playwright checks while
 * the suite waits; `screenshot`: the README picture (test/e2e/artifacts/<name>) the ui checks take.
 */
const SESSIONS = [
  { name: 'start', command: true },
  {
    name: 'sample',
    suite: 'sample',
    timeoutMs: 300_000,
    ui: sampleUiChecks,
    screenshot: 'sample-sections-problems.png',
    workspace: (tmp) => copySample(tmp, true),
  },
  { name: 'nobuild', suite: 'nobuild', timeoutMs: 120_000, workspace: (tmp) => copySample(tmp, false) },
  { name: 'plain', suite: 'plain', timeoutMs: 120_000, workspace: plainProject },
  { name: 'explorer', suite: 'sectionExplorer.e2e', timeoutMs: 300_000, workspace: (tmp) => copySample(tmp, true) },
  { name: 'real-nvhe', suite: 'real', timeoutMs: 300_000, workspace: realNvheTree },
  // MAKEFLAGS: the task runs `make` as recorded, without -j; a kernel developer's environment sets it.
  { name: 'real-loop', suite: 'realLoop', timeoutMs: 900_000, workspace: realLoopTree, env: { MAKEFLAGS: '-j2' } },
  {
    name: 'real-config',
    suite: 'realConfig',
    timeoutMs: 300_000,
    ui: configUiChecks,
    screenshot: 'config-view-arm64-makefile.png',
    workspace: realConfigTree,
  },
];

function copySample(tmp, withBuild) {
  const dest = join(tmp, withBuild ? 'sample-kernel' : 'sample-kernel-nobuild');
  cpSync(sampleTree, dest, { recursive: true, verbatimSymlinks: true });
  if (!withBuild) rmSync(join(dest, 'build'), { recursive: true, force: true });
  return { folder: dest };
}

function plainProject(tmp) {
  const dest = join(tmp, 'plain-make-project');
  mkdirSync(dest, { recursive: true });
  writeFileSync(
    join(dest, 'Makefile'),
    'CFLAGS := -O2 -Wall\n\nhello: hello.o\n\t$(CC) $(LDFLAGS) -o $@ $^\n\nclean:\n\trm -f hello hello.o\n\n.PHONY: clean\n',
  );
  writeFileSync(join(dest, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
  return { folder: dest };
}

const NVHE_DIR = 'arch/arm64/kvm/hyp/nvhe';
/** The shared tree of scripts/build-nvhe.sh, once per run while it stays as the script left it. */
let nvheTree;

/** The script's failed state: the pre-fix Makefile, kvm_nvhe.tmp.o built, no hyp-reloc.S. */
function nvheTreeAsBuilt(path) {
  const nvhe = join(path, NVHE_DIR);
  return (
    existsSync(join(nvhe, 'kvm_nvhe.tmp.o')) &&
    !existsSync(join(nvhe, 'hyp-reloc.S')) &&
    existsSync(join(nvhe, 'Makefile.prefix')) &&
    readFileSync(join(nvhe, 'Makefile'), 'utf8') === readFileSync(join(nvhe, 'Makefile.prefix'), 'utf8')
  );
}

/**
 * The Linux 6.1 tree of scripts/build-nvhe.sh (shared, cached under $KBD_CACHE). The script runs once
 * per run of this harness: real-nvhe only edits in memory and reverts, so real-loop finds the tree as
 * the script left it (checked; else the script runs again).
 */
function realNvheTree() {
  if (nvheTree?.folder && nvheTreeAsBuilt(nvheTree.folder)) return nvheTree;
  const script = join(repoRoot, 'scripts', 'build-nvhe.sh');
  if (!existsSync(script)) return { skip: 'scripts/build-nvhe.sh does not exist yet' };
  say('real-nvhe: running scripts/build-nvhe.sh (first run extracts and configures Linux 6.1)');
  const t = Date.now();
  const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !path || !existsSync(join(path, NVHE_DIR, 'Makefile'))) {
    return {
      error: `scripts/build-nvhe.sh failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-10).join('\n')}`,
    };
  }
  say(`real-nvhe: tree ${path} ready in ${secs(t)}`);
  nvheTree = { folder: path };
  return nvheTree;
}

// A copy of the shared tree that can be built and saved into without touching it: hard links for
// everything (cheap), then real copies of every file a build or the suite may write in place. Kbuild
// replaces some outputs by rename (harmless to a hard link) but writes others through the link
// (fixdep's `> .x.cmd`, the editor's save): so the nvhe directory is copied whole, and so is every
// file written since build-nvhe.sh configured the tree (newer than its nvhe.prof, written before
// defconfig: .config, include/config, include/generated, scripts' tools, every object and .cmd file),
// timestamps kept, so make finds the copy as up to date as the tree. Another filesystem: a full copy.
const COPY_TREE = String.raw`set -euo pipefail
src=$1 dest=$2 nvhe=$3
if ! cp -al "$src" "$dest" 2>/dev/null; then rm -rf "$dest"; cp -a "$src" "$dest"; echo 'full copy (no hard links across filesystems)'; exit 0; fi
rm -rf "$dest/$nvhe" && cp -a "$src/$nvhe" "$dest/$nvhe"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cd "$src" && find . -type f -newer nvhe.prof -not -path "./$nvhe/*" -print0 > "$list"
xargs -0r -a "$list" cp -a --parents --remove-destination -t "$dest"
n=$(tr -cd '\0' < "$list" | wc -c)
echo "hard-link copy, $n generated files and $nvhe copied for real"`;

/** Every path of `dir` with its inode, size, mtime and type: what a write into the tree would change. */
function treeState(dir) {
  const r = spawnSync('find', [dir, '-printf', '%i %s %T@ %y %P\n'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`find ${dir} failed: ${r.stderr}`);
  return new Map(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const at = l.indexOf(' ', l.indexOf(' ', l.indexOf(' ', l.indexOf(' ') + 1) + 1) + 1);
        return [l.slice(at + 1), l.slice(0, at)];
      }),
  );
}

/** real-loop: its own copy of the shared 6.1 tree (it saves a fix and rebuilds); the shared tree is checked unchanged after. */
function realLoopTree() {
  const shared = realNvheTree();
  if (!shared.folder) return shared;
  const t = Date.now();
  // Beside the shared tree, in the cache: hard links need the same filesystem (a tmpfs /tmp is not),
  // and a full copy of 1.5 GB into memory is what that would cost. Copies of runs that died are removed.
  const cache = dirname(shared.folder);
  for (const name of readdirSync(cache)) {
    const pid = /^\.e2e-real-loop-(\d+)$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid)))
      rmSync(join(cache, name), { recursive: true, force: true });
  }
  const dest = join(cache, `.e2e-real-loop-${process.pid}`);
  rmSync(dest, { recursive: true, force: true });
  const before = treeState(shared.folder);
  const r = spawnSync('bash', ['-c', COPY_TREE, 'copy-tree', shared.folder, dest, NVHE_DIR], {
    encoding: 'utf8',
    timeout: 10 * 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) return { error: `copying ${shared.folder} failed: ${r.error?.message ?? r.stderr.trim()}` };
  say(`real-loop: ${r.stdout.trim()} into ${dest} in ${secs(t)}`);
  return {
    folder: dest,
    cleanup: () => rmSync(dest, { recursive: true, force: true }),
    verify: () => {
      const after = treeState(shared.folder);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
      return changed.length === 0
        ? `the shared tree ${shared.folder} is unchanged (${after.size} paths: inode, size, mtime)`
        : {
            error: `the shared tree ${shared.folder} changed: ${changed.slice(0, 10).join(', ')}${changed.length > 10 ? ` and ${changed.length - 10} more` : ''}`,
          };
    },
  };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Linux 6.12 with an O= defconfig build directory: the kernel tier's tree (scripts/build-config-6.12.sh, cached). */
function realConfigTree() {
  const script = join(repoRoot, 'scripts', 'build-config-6.12.sh');
  say('real-config: running scripts/build-config-6.12.sh (first run extracts Linux 6.12 and runs defconfig)');
  const t = Date.now();
  const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 15 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status === 2) return { skip: (r.stderr ?? '').trim() };
  if (r.status !== 0 || !path || !existsSync(join(path, 'out', '.config'))) {
    return {
      error: `scripts/build-config-6.12.sh failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().split('\n').slice(-10).join('\n')}`,
    };
  }
  say(`real-config: tree ${path} ready in ${secs(t)}`);
  return { folder: path };
}

async function bundleSuites() {
  const suiteDir = join(e2eDir, 'suite');
  const entries = readdirSync(suiteDir)
    .filter((f) => f.endsWith('.ts') && f !== 'lib.ts')
    .map((f) => join(suiteDir, f));
  rmSync(outDir, { recursive: true, force: true });
  await build({
    entryPoints: entries,
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

/** Runs one session; returns { name, ok, summary, details[] }. */
async function runSession(install, session, tmpRoot) {
  const tmp = join(tmpRoot, session.name);
  mkdirSync(tmp, { recursive: true });
  const ws = await session.workspace(tmp);
  if (ws.skip) {
    const msg = `${session.name}: SKIPPED: ${ws.skip}`;
    say(onCi ? `${msg} (CI=true: counted as a failure)` : msg);
    return { name: session.name, ok: !onCi, summary: `0 passed, ${onCi ? 1 : 0} failed (skipped: ${ws.skip})` };
  }
  if (ws.error) {
    say(`${session.name}: FAIL: ${ws.error}`);
    return { name: session.name, ok: false, summary: `0 passed, 1 failed (${ws.error.split('\n')[0]})` };
  }

  const serverData = join(tmp, 'server-data');
  const extensionsDir = join(tmp, 'extensions');
  const uiDir = join(tmp, 'ui');
  const resultsFile = join(tmp, 'results.json');
  mkdirSync(uiDir, { recursive: true });
  // VS Code for the Web saves a changed file after 1 s by default (files.autoSave afterDelay): under
  // load the real-nvhe suite's unsaved, reverted fix reached the shared tree's Makefile that way.
  writeUserSettings(serverData, { 'files.autoSave': 'off' });
  const env = { KBD_E2E_RESULTS: resultsFile };
  if (process.env.KBD_E2E_FILTER) env.KBD_E2E_FILTER = process.env.KBD_E2E_FILTER;
  if (session.ui) env.KBD_E2E_UI_DIR = uiDir;
  Object.assign(env, session.env);
  // The extension host's log (the suite reads its startup report, see suite/plain.ts).
  env.KBD_E2E_LOGS = join(serverData, 'data', 'logs');

  const ts = Date.now();
  const server = await startServer(install, {
    serverDataDir: serverData,
    extensionsDir,
    smokeTestDriver: true,
    env,
    logFile: join(tmp, 'server.log'),
  });
  say(`${session.name}: server on ${server.url} (up in ${secs(ts)})`);
  let context;
  const result = { name: session.name, ok: false, summary: '', ui: undefined };
  try {
    context = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLines = [];
    page.on('console', (m) => {
      const text = m.text();
      if (text.includes('[e2e:')) process.stdout.write(`  ${text.slice(text.indexOf('[e2e:'))}\n`);
      else if (m.type() === 'error') consoleLines.push(text);
    });
    let exitResolve;
    const exited = new Promise((r) => {
      exitResolve = r;
    });
    await page.exposeFunction('codeAutomationExit', (code) => {
      exitResolve(code);
    });
    const url = workbenchUrl(server, ws.folder, [
      ['extensionDevelopmentPath', remoteUri(server, repoRoot)],
      ['extensionTestsPath', remoteUri(server, join(outDir, `${session.suite}.js`))],
    ]);
    const tw = Date.now();
    await page.goto(url, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    say(`${session.name}: workbench loaded in ${secs(tw)}`);

    // UI checks while the suite holds the extension host alive.
    if (session.ui) {
      const ready = await Promise.race([
        waitForFile(join(uiDir, 'ready'), session.timeoutMs).then(() => 'ready'),
        exited.then(() => 'exited'),
      ]);
      if (ready === 'ready') {
        const tu = Date.now();
        result.ui = await session.ui(page, {
          workspace: ws.folder,
          uiDir,
          screenshot: session.screenshot,
          artifacts,
          say: (s) => say(`${session.name}/ui: ${s}`),
        });
        say(`${session.name}: UI checks took ${secs(tu)}`);
      } else {
        result.ui = { passed: 0, failed: 1, lines: ['the suite ended before it was ready for the UI checks'] };
      }
      writeFileSync(join(uiDir, 'done'), '1');
    }

    const code = await Promise.race([exited, sleep(session.timeoutMs).then(() => 'timeout')]);
    if (code === 'timeout') {
      await page.screenshot({ path: join(artifacts, `${session.name}-timeout.png`) }).catch(() => {});
      throw new Error(
        `the suite did not finish within ${session.timeoutMs / 1000}s (no codeAutomationExit); screenshot ${join(artifacts, `${session.name}-timeout.png`)}`,
      );
    }
    const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : undefined;
    if (!results) {
      throw new Error(
        `the suite exited with code ${code} without writing results (did it load? errors in the page console:\n${consoleLines.slice(-8).join('\n')})`,
      );
    }
    for (const r of results.results.filter((x) => x.status !== 'passed'))
      say(`${session.name}: ${r.status.toUpperCase()} ${r.name}\n    ${(r.error ?? '').split('\n').join('\n    ')}`);
    const uiOk = !result.ui || result.ui.failed === 0;
    result.ok = code === 0 && results.failed === 0 && uiOk;
    result.summary =
      results.summary + (result.ui ? `; UI checks: ${result.ui.passed} passed, ${result.ui.failed} failed` : '');
    if (code !== 0 && results.failed === 0) result.summary += ` (exit code ${code})`;
    say(`${session.name}: ${result.summary} (session ${secs(ts)})`);
  } catch (e) {
    result.ok = false;
    result.summary = `0 passed, 1 failed (${e.message.split('\n')[0]})`;
    say(`${session.name}: FAIL: ${e.message}`);
  } finally {
    await context?.close().catch(() => {});
    await server.stop();
  }
  // After the server stopped: what the session must have left as it was (real-loop's shared tree).
  if (ws.verify) {
    const v = ws.verify();
    if (typeof v === 'string') say(`${session.name}: ${v}`);
    else {
      result.ok = false;
      result.summary += `; ${v.error}`;
      say(`${session.name}: FAIL: ${v.error}`);
    }
  }
  if (ws.cleanup && !keep) ws.cleanup();
  else if (ws.cleanup) say(`${session.name}: kept ${ws.folder}`);
  return result;
}

function waitForFile(path, timeoutMs) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (existsSync(path)) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${path} did not appear within ${timeoutMs / 1000}s`));
      setTimeout(tick, 250);
    };
    tick();
  });
}

const sleep = (ms) =>
  new Promise((r) => {
    const t = setTimeout(r, ms);
    t.unref?.();
  });

async function main() {
  requireChromium();
  mkdirSync(artifacts, { recursive: true });
  // `--update-screenshot` alone (npm run screenshot): only the sessions that take the README's pictures.
  const sessions = SESSIONS.filter((s) =>
    only.length > 0 ? only.includes(s.name) : !updateScreenshot || s.screenshot,
  );
  if (sessions.length === 0)
    throw new Error(`no session named ${only.join(', ')}; sessions: ${SESSIONS.map((s) => s.name).join(', ')}`);
  const results = [];
  const cache = cacheDir();
  const cold = !existsSync(join(cache, 'cs', '.complete'));
  say(
    `VS Code cache ${cache}: ${cold ? 'empty (or incomplete): the first session installs VS Code from nothing' : 'already installed'}`,
  );
  // The README's main command first: with an empty cache it is the one that installs VS Code.
  if (sessions.some((s) => s.command))
    results.push(await startCommandTest({ say: (l) => say(`start: ${l}`), artifacts }));
  const vscodeSessions = sessions.filter((s) => !s.command);
  if (vscodeSessions.length > 0) {
    const ti = Date.now();
    const install = await ensureInstall(reporterFor('e2e-install', 'e2e'));
    say(`VS Code ${vscodeVersion(install)} (code-server) ready in ${secs(ti)}`);
    const tb = Date.now();
    await bundleSuites();
    say(`suites bundled into test/e2e/out in ${secs(tb)}`);
    const tmpRoot = mkdtempSync(join(tmpdir(), 'kbd-e2e-'));
    try {
      for (const s of vscodeSessions) results.push(await runSession(install, s, tmpRoot));
    } finally {
      if (!keep) rmSync(tmpRoot, { recursive: true, force: true });
      else say(`kept ${tmpRoot}`);
    }
  }
  if (updateScreenshot) {
    for (const s of sessions.filter((x) => x.screenshot)) {
      const shot = join(artifacts, s.screenshot);
      const r = results.find((x) => x.name === s.name);
      if (!r?.ok || !existsSync(shot)) {
        say(`--update-screenshot: ${s.name} ${r?.ok ? `wrote no ${shot}` : 'failed'}: README picture not replaced`);
        results.push({ name: `${s.name} screenshot`, ok: false, summary: 'not updated' });
        continue;
      }
      const dest = join(e2eDir, 'artifacts', s.screenshot);
      copyFileSync(shot, dest);
      say(`README screenshot updated: ${dest} (look at it, then commit it)`);
    }
  }
  console.log('\n[e2e] summary');
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.summary}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed (sessions, ${secs(t0)} total)`);
  return failed === 0 ? 0 : 1;
}

// Never hang: a global bound over everything (a cold install on a loaded 2-core machine included).
const overall = setTimeout(() => {
  console.error('[e2e] overall timeout (60 min) reached');
  killAllServersNow();
  process.exit(124);
}, 60 * 60_000);
overall.unref();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`[e2e] ${sig}: stopping`);
    killAllServersNow();
    process.exit(130);
  });
}
process.on('exit', killAllServersNow);

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[e2e] ${e instanceof PhaseError ? e.paragraph() : process.env.KBD_E2E_DEBUG ? e.stack : e.message}`);
    killAllServersNow();
    process.exit(1);
  },
);
