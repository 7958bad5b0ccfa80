// Progress and failure reports for the long first run (scripts/start.mjs, test/e2e/run.mjs,
// scripts/vscode-web.mjs): each phase prints its name, a ticker with the elapsed time while it runs
// and its time when it ends; what child commands print goes to a log file, not the terminal; a
// failure is one paragraph (phase, cause, fix, where the full log is).
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A failed phase, already explained: what was running, why it failed, what to do. */
export class PhaseError extends Error {
  constructor({ phase, cause, fix, logFile, seconds }) {
    super(`${phase}: ${cause}`);
    this.phase = phase;
    this.reason = cause;
    this.fix = fix;
    this.logFile = logFile;
    this.seconds = seconds;
  }

  /** The one paragraph a person reads. */
  paragraph() {
    const after = this.seconds === undefined ? '' : ` after ${fmtSecs(this.seconds)}`;
    const log = this.logFile ? ` Full log: ${this.logFile}` : '';
    return `FAILED in phase "${this.phase}"${after}. Cause: ${this.reason}. Fix: ${this.fix}.${log}`;
  }
}

export const fmtSecs = (s) =>
  s < 60 ? `${s.toFixed(0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

/**
 * Environment for a child npm (or any child) that must not inherit the npm script it runs under:
 * npm exports npm_config_user_agent (naming npm's own Node), npm_execpath, npm_config_* (the outer
 * npm's settings), npm_lifecycle_*, npm_package_* and puts node_modules/.bin folders on PATH. Only
 * the registry and network settings (npm_config_registry, proxies, CA) are passed on.
 * code-server's postinstall reads the Node version from npm_config_user_agent, so a leaked one
 * names the wrong Node.
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Where the registry is and how to reach it stays (the user may set it in the environment).
    const network =
      /^npm_config_(registry|proxy|https_proxy|http_proxy|noproxy|no_proxy|cafile|ca|strict_ssl|fetch_retries|fetch_timeout)$/i.test(
        k,
      );
    if ((/^npm_/i.test(k) && !network) || k === 'INIT_CWD' || k === 'NODE' || k === 'COLOR' || k === 'EDITOR_NPM')
      continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p && !/node_modules[\\/]\.bin$/.test(p) && !/node-gyp-bin$/.test(p))
    .join(':');
  return { ...env, ...extra };
}

/** Known causes in a failed command's output, first match wins: [pattern, cause, fix]. */
const KNOWN = [
  [/ENOSPC|no space left on device/i, 'the disk is full', 'free some disk space (df -h) and run the command again'],
  [
    /EAI_AGAIN|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network (request|timeout)|getaddrinfo/i,
    'the npm registry could not be reached',
    'check the network or the proxy settings (npm config get registry / https-proxy), then run the command again',
  ],
  [
    /EACCES|permission denied/i,
    'permission denied while writing',
    'make the folder named in the log writable, or set KBD_VSCODE_CACHE to a folder of yours',
  ],
  [
    /gyp ERR! find Python|Could not find any Python/i,
    'node-gyp found no Python 3 to build native modules',
    'install python3 (as root: apt-get install -y python3)',
  ],
  [
    /(g\+\+|c\+\+|cc|make): (command )?not found|not found: make|gyp ERR! stack Error: not found/i,
    'a C/C++ compiler or make is missing for the native modules',
    'install them (as root: apt-get install -y g++ make)',
  ],
  [
    /gssapi\/gssapi\.h|krb5\.h/i,
    'the kerberos module was built although it is not needed',
    'report it: scripts/vscode-web.mjs should skip kerberos',
  ],
  [
    /requires node v(\d+)/i,
    "code-server's install script saw the wrong Node version",
    'run the command again; if it repeats, report it (the child npm must not inherit npm_config_user_agent)',
  ],
];

/** Explains a failed command from its output; falls back to its last error line. */
export function diagnose(output, fallback) {
  for (const [re, cause, fix] of KNOWN) if (re.test(output)) return { cause, fix };
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errLine =
    lines
      .filter((l) => /error|ERR!|failed/i.test(l) && !/^npm error (code|path|command|cwd|A complete log)/i.test(l))
      .slice(-1)[0] ?? lines.slice(-1)[0];
  return {
    cause: `${fallback}${errLine ? ` (last error line: "${errLine.slice(0, 300)}")` : ''}`,
    fix: 'read the end of the log named below; run the command again once the cause is fixed',
  };
}

/**
 * A reporter prints phases to `stream` and appends child output to `logFile`.
 *   phase(name, fn)  runs fn with a ticker; a throw becomes a PhaseError
 *   run(cmd, args, {cwd, env, timeoutMs})  runs a child, its output into the log
 */
export function createReporter({ prefix, logFile, stream = process.stderr, tickMs }) {
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, `# ${prefix} log, ${new Date().toISOString()}\n`);
  const tty = !!stream.isTTY && process.env.CI !== 'true';
  const every = tickMs ?? (tty ? 1000 : 15_000);
  const say = (s, { log = true } = {}) => {
    stream.write(`${tty ? '\r\x1b[K' : ''}[${prefix}] ${s}\n`);
    if (log) appendFileSync(logFile, `[${prefix}] ${s}\n`);
  };
  let current;

  /** Runs fn as phase `name`; `detail` (what and why, said once at the start) keeps the ticker short. */
  async function phase(name, fn, detail) {
    const t0 = Date.now();
    const secs = () => (Date.now() - t0) / 1000;
    const outer = current;
    current = name;
    if (tty) {
      // The detail on its own line; the ticker then rewrites the phase's line in place.
      if (detail) say(`${name}: ${detail}`);
      else appendFileSync(logFile, `[${prefix}] ${name} …\n`);
      stream.write(`\r\x1b[K[${prefix}] ${name} …`);
    } else say(`${name}${detail ? ` (${detail})` : ''} …`);
    appendFileSync(logFile, `\n## phase: ${name}\n`);
    const timer = setInterval(() => {
      if (current !== name) return;
      if (tty) stream.write(`\r\x1b[K[${prefix}] ${name} … ${fmtSecs(secs())}`);
      else say(`  … ${name}: ${fmtSecs(secs())}`, { log: false });
    }, every);
    try {
      const value = await fn();
      say(`${name}: done in ${fmtSecs(secs())}`);
      return value;
    } catch (e) {
      if (e instanceof PhaseError) throw e;
      const { cause, fix } = e.explained ?? diagnose(e.output ?? '', e.message.split('\n')[0]);
      appendFileSync(logFile, `\n## failed: ${name}: ${e.stack ?? e.message}\n`);
      throw new PhaseError({ phase: name, cause, fix, logFile, seconds: secs() });
    } finally {
      clearInterval(timer);
      current = outer;
    }
  }

  /** Runs cmd; resolves with its stdout; rejects with .output (the tail of stdout+stderr). */
  function run(cmd, args, { cwd, env, timeoutMs = 20 * 60_000 } = {}) {
    return new Promise((resolve, reject) => {
      appendFileSync(logFile, `$ ${cmd} ${args.join(' ')}${cwd ? `   (in ${cwd})` : ''}\n`);
      const child = spawn(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      liveChildren.add(child);
      let stdout = '';
      let tail = '';
      const keep = (d, isOut) => {
        const s = d.toString();
        appendFileSync(logFile, s);
        if (isOut) stdout += s;
        tail = (tail + s).slice(-20_000);
      };
      child.stdout.on('data', (d) => keep(d, true));
      child.stderr.on('data', (d) => keep(d, false));
      const timer = setTimeout(() => {
        appendFileSync(logFile, `\n(timed out after ${timeoutMs / 1000}s: killing it)\n`);
        child.kill('SIGTERM');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        liveChildren.delete(child);
        const err = new Error(`${cmd} could not be started: ${e.message}`);
        err.output = tail;
        if (e.code === 'ENOENT')
          err.explained = {
            cause: `the command ${cmd} is not installed`,
            fix: `install ${cmd} and run the command again`,
          };
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        liveChildren.delete(child);
        if (code === 0) return resolve(stdout);
        const err = new Error(
          `${cmd} ${args.slice(0, 4).join(' ')} failed (${signal ? `signal ${signal}` : `exit ${code}`})`,
        );
        err.output = tail;
        reject(err);
      });
    });
  }

  return { phase, run, say, logFile, prefix };
}

/** Children started by run() and still running (killed by killChildrenNow on Ctrl-C). */
export const liveChildren = new Set();

/** SIGTERMs every child still running; returns how many there were. */
export function killChildrenNow() {
  const n = liveChildren.size;
  for (const c of liveChildren) {
    try {
      c.kill('SIGTERM');
    } catch {
      /* gone */
    }
  }
  return n;
}
