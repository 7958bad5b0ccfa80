// `npm start`: packages the extension, installs the fresh .vsix into a clean VS Code for the Web
// (code-server's VS Code server, installed into ~/.cache/kbuild-diagnostics/vscode if missing),
// opens a fresh copy of the sample kernel tree and prints the URL. Ctrl-C stops everything.
//
//   npm start                     # free port on 127.0.0.1
//   npm start -- --port 8080      # fixed port (or KBD_PORT=8080)
//   npm start -- --folder DIR     # open DIR instead of a copy of the sample tree
//   npm start -- --no-package     # reuse kbuild-diagnostics.vsix as it is
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureInstall, installVsix, repoRoot, startServer, vscodeVersion, workbenchUrl, writeUserSettings } from './vscode-web.mjs';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const port = Number(opt('--port') ?? process.env.KBD_PORT ?? 0) || undefined;
const say = (s) => console.log(`[start] ${s}`);
const vsix = join(repoRoot, 'kbuild-diagnostics.vsix');

let server;
let tmp;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function packageVsix() {
  // .vscodeignore keeps sources, tests and fixtures out; package.json's script keeps README links as they are.
  const args = ['run', 'package'];
  const t = Date.now();
  const r = spawnSync('npm', args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000 });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  if (!existsSync(vsix)) throw new Error(`npm run package did not write ${vsix}`);
  say(`packaged ${vsix} in ${((Date.now() - t) / 1000).toFixed(0)}s`);
}

async function main() {
  tmp = mkdtempSync(join(tmpdir(), 'kbd-start-'));
  if (!argv.includes('--no-package')) packageVsix();
  else if (!existsSync(vsix)) throw new Error(`--no-package: ${vsix} does not exist`);

  const install = ensureInstall();
  say(`VS Code ${vscodeVersion(install)} (code-server's VS Code server) in ${install.vscodeDir}`);

  let folder = opt('--folder') && resolve(opt('--folder'));
  if (!folder) {
    folder = join(tmp, 'sample-kernel');
    cpSync(join(repoRoot, 'test', 'fixtures', 'sample-kernel'), folder, { recursive: true, verbatimSymlinks: true });
  }
  const serverDataDir = join(tmp, 'server-data');
  const extensionsDir = join(tmp, 'extensions');
  writeUserSettings(serverDataDir);
  installVsix(install, vsix, extensionsDir, serverDataDir);
  say(`installed ${vsix} into ${extensionsDir}`);

  server = await startServer(install, { port, serverDataDir, extensionsDir, logFile: join(tmp, 'server.log') });
  server.proc.on('exit', (code, sig) => {
    if (!stopping) {
      console.error(`[start] the VS Code server exited (${code ?? sig}); last output:\n${server.output().slice(-2000)}`);
      void shutdown(1);
    }
  });
  const url = workbenchUrl(server, folder);
  console.log('');
  console.log(`  Kbuild Diagnostics on the sample kernel tree (${folder}):`);
  console.log(`  ${url}`);
  console.log('');
  console.log('  Open the URL in a browser (from another machine: ssh -L PORT:127.0.0.1:PORT). Ctrl-C stops everything.');
}

main().catch(async (e) => {
  console.error(`[start] ${e.message}`);
  await shutdown(1);
});
