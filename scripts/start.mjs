// `npm start`: packages the extension, installs the fresh .vsix into a clean VS Code for the Web
// (code-server's VS Code server, installed into ~/.cache/kbuild-diagnostics/vscode if missing),
// opens a fresh copy of the sample kernel tree and prints the URL. Ctrl-C stops everything.
// Each phase shows its elapsed time while it runs; what the commands print goes to
// ~/.cache/kbuild-diagnostics/vscode/logs/start.log, and a failure is one paragraph naming the
// phase, the cause and the fix.
//
//   npm start                     # free port on 127.0.0.1
//   npm start -- --port 8080      # fixed port (or KBD_PORT=8080)
//   npm start -- --folder DIR     # open DIR instead of a copy of the sample tree
//   npm start -- --no-package     # reuse kbuild-diagnostics.vsix as it is
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PhaseError, cleanEnv, fmtSecs, killChildrenNow } from './progress.mjs';
import {
  ensureInstall,
  installVsix,
  removePartialInstallNow,
  reporterFor,
  repoRoot,
  startServer,
  vscodeVersion,
  workbenchUrl,
  writeUserSettings,
} from './vscode-web.mjs';

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const port = Number(opt('--port') ?? process.env.KBD_PORT ?? 0) || undefined;
const vsix = join(repoRoot, 'kbuild-diagnostics.vsix');
const t0 = Date.now();
const rep = reporterFor('start');

let server;
let tmp;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  rep.say('stopping…');
  const killed = killChildrenNow();
  if (killed) await new Promise((r) => setTimeout(r, 1000)); // let npm stop writing first
  removePartialInstallNow();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  rep.say('stopped');
  process.exit(code);
}
// Ctrl-C, kill, and a closed terminal (SIGHUP) all stop the server: it runs in its own session
// (setsid), so nothing else would.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void shutdown(0));

async function main() {
  tmp = mkdtempSync(join(tmpdir(), 'kbd-start-'));
  if (!argv.includes('--no-package')) {
    // .vscodeignore keeps sources, tests and fixtures out; package.json's script keeps README links as they are.
    await rep.phase('build and package the extension (npm run package)', async () => {
      await rep.run('npm', ['run', 'package'], { cwd: repoRoot, env: cleanEnv(), timeoutMs: 10 * 60_000 });
      if (!existsSync(vsix)) throw new Error(`npm run package did not write ${vsix}`);
    });
  } else if (!existsSync(vsix)) {
    throw new PhaseError({
      phase: 'find the package',
      cause: `--no-package was given and ${vsix} does not exist`,
      fix: 'run npm start without --no-package',
      logFile: rep.logFile,
    });
  }

  const install = await ensureInstall(rep);
  rep.say(`VS Code ${vscodeVersion(install)} (code-server's VS Code server) in ${install.vscodeDir}`);

  let folder = opt('--folder') && resolve(opt('--folder'));
  if (!folder) {
    folder = join(tmp, 'sample-kernel');
    cpSync(join(repoRoot, 'test', 'fixtures', 'sample-kernel'), folder, { recursive: true, verbatimSymlinks: true });
  }
  const serverDataDir = join(tmp, 'server-data');
  const extensionsDir = join(tmp, 'extensions');
  writeUserSettings(serverDataDir);
  await rep.phase('install the extension into VS Code', () =>
    installVsix(rep, install, vsix, extensionsDir, serverDataDir),
  );

  server = await rep.phase('start the VS Code server', () =>
    startServer(install, { port, serverDataDir, extensionsDir, logFile: join(tmp, 'server.log') }),
  );
  server.proc.on('exit', (code, sig) => {
    if (!stopping) {
      console.error(
        `[start] the VS Code server exited (${code ?? sig}); last output:\n${server.output().slice(-2000)}`,
      );
      void shutdown(1);
    }
  });
  const url = workbenchUrl(server, folder);
  rep.say(`ready in ${fmtSecs((Date.now() - t0) / 1000)}`);
  console.log('');
  console.log(`  Kbuild Diagnostics on the sample kernel tree (${folder}):`);
  console.log(`  ${url}`);
  console.log('');
  console.log(
    '  Open the URL in a browser (from another machine: ssh -L PORT:127.0.0.1:PORT). Ctrl-C stops everything.',
  );
}

main().catch(async (e) => {
  if (stopping) return;
  console.error(`[start] ${e instanceof PhaseError ? e.paragraph() : `${e.message} (full log: ${rep.logFile})`}`);
  await shutdown(1);
});
