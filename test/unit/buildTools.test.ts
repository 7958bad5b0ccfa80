// What `npm start` does when the tools to build VS Code's native modules are missing
// (scripts/vscode-web.mjs): as root it installs them with apt-get and says so; otherwise it stops
// with the exact command. The machine's own apt-get and dpkg-query are replaced by shims on PATH,
// so that a tool can be missing here although this machine has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from '../helpers/kernelTree';

interface Plan {
  missing: string[];
  offPath: string[];
  command?: string;
  canInstall: boolean;
}
interface Probes {
  has?: (cmd: string) => boolean;
  installed?: (pkg: string) => boolean | undefined;
  isRoot?: boolean;
  hasApt?: boolean;
}
interface Reporter {
  say(s: string): void;
  logFile: string;
}
interface VscodeWeb {
  planBuildTools(p: Probes): Plan;
  ensureBuildTools(rep: Reporter, p?: Probes): Promise<void>;
}
interface Progress {
  createReporter(o: {
    prefix: string;
    logFile: string;
    stream: { write(s: string): boolean; isTTY?: boolean };
  }): Reporter;
}
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(root, rel)).href)) as T;

test('planBuildTools: a missing tool is a Debian package to install; the command is exact', async () => {
  const m = await load<VscodeWeb>('scripts/vscode-web.mjs');
  const has = (c: string) => c !== 'make' && c !== 'g++';
  const root = m.planBuildTools({ has, installed: () => false, isRoot: true, hasApt: true });
  assert.deepEqual(root, {
    missing: ['make', 'g++'],
    offPath: [],
    command: 'apt-get install -y --no-install-recommends make g++',
    canInstall: true,
  });
  assert.equal(m.planBuildTools({ has, installed: () => false, isRoot: false, hasApt: true }).canInstall, false);
  // dpkg-query says installed but the command is not found: apt-get cannot help.
  assert.deepEqual(m.planBuildTools({ has, installed: (p) => p === 'make', isRoot: true, hasApt: true }).offPath, [
    'make',
  ]);
  assert.deepEqual(
    m.planBuildTools({ has: () => true, installed: () => false, isRoot: true, hasApt: true }).missing,
    [],
  );
});

test('as root with make missing: dpkg-query is asked, apt-get update and install run, and it says so', async () => {
  const m = await load<VscodeWeb>('scripts/vscode-web.mjs');
  const p = await load<Progress>('scripts/progress.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'kbd-buildtools-'));
  const bin = join(dir, 'bin');
  const calls = join(dir, 'calls');
  try {
    writeFileSync(calls, '');
    const shim = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    symlinkSync('/bin/sh', join(bin, 'sh'));
    shim('python3', 'exit 0');
    shim('g++', 'exit 0');
    // make is not installed: dpkg-query answers like Debian's for a removed package.
    shim(
      'dpkg-query',
      `echo "dpkg-query $*" >> ${calls}; case "$*" in *make*) printf 'deinstall ok config-files';; *) printf 'install ok installed';; esac`,
    );
    shim(
      'apt-get',
      `echo "apt-get $*" >> ${calls}; case "$1" in install) printf '#!/bin/sh\\nexit 0\\n' > ${bin}/make; /bin/chmod +x ${bin}/make;; esac`,
    );
    const oldPath = process.env.PATH;
    let out = '';
    process.env.PATH = bin;
    try {
      const rep = p.createReporter({
        prefix: 'start',
        logFile: join(dir, 'log'),
        stream: { write: (s: string) => ((out += s), true) },
      });
      await m.ensureBuildTools(rep, { isRoot: true });
    } finally {
      process.env.PATH = oldPath;
    }
    const log = readFileSync(calls, 'utf8');
    assert.match(log, /dpkg-query -W -f=\$\{Status\} make/);
    assert.match(log, /^apt-get update$/m);
    assert.match(log, /^apt-get install -y --no-install-recommends make$/m);
    assert.match(out, /\[start\] apt-get install make \(as root, to build VS Code's native modules/);
    assert.match(out, /apt-get install make: done in/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not root with make missing: stops with the exact command, installs nothing', async () => {
  const m = await load<VscodeWeb>('scripts/vscode-web.mjs');
  const rep = { say: () => {}, logFile: '/dev/null' } as unknown as Reporter;
  await assert.rejects(
    m.ensureBuildTools(rep, { has: (c) => c !== 'make', installed: () => false, isRoot: false, hasApt: true }),
    (e: Error & { paragraph(): string }) => {
      assert.match(
        e.paragraph(),
        /Fix: run, as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends make; then run the command again/,
      );
      return true;
    },
  );
});
