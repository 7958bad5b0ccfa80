// Bad usage of the command line, run as a real process (server/out/cli.js, from `npm run build`): every
// command rejects an unknown option, an option without its value and an empty value with a message that
// names the option, its usage and exit 2, and writes nothing on stdout; `--` ends the options in every
// command, so a file whose name starts with '-' can be named.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../helpers/kernelTree';
import { NVHE } from './lspHelpers';

const cli = join(root, 'server', 'out', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'kbd-usage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const elf = join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp-profile.o');
const script = join(root, 'test', 'fixtures', 'sample-kernel', 'build', NVHE, 'hyp.lds');

const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: tmp });

/** Exit 2, nothing on stdout, and stderr names the command, matches `why` and shows the usage. */
function assertUsageError(args: string[], why: RegExp): void {
  const r = run(...args);
  const shown = `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`;
  assert.equal(r.status, 2, shown);
  assert.equal(r.stdout, '', shown);
  assert.match(r.stderr, new RegExp(`^kbuild-diagnostics ${args[0]}: `), shown);
  assert.match(r.stderr, why, shown);
  assert.match(r.stderr, new RegExp(`\\nusage: kbuild-diagnostics ${args[0]} `), shown);
}

test('check --build-dir without a value is a usage error, not ignored', () => {
  assertUsageError(['check', '--build-dir'], /--build-dir <value>' argument missing/);
  assertUsageError(['check', '-O'], /--build-dir <value>' argument missing/);
  // The next word is an option, not the directory.
  assertUsageError(['check', '--build-dir', '--format', 'json', '.'], /'--build-dir' argument is ambiguous/);
  assertUsageError(['check', '--build-dir=', '.'], /option '--build-dir' needs a value/);
  assertUsageError(['check', '--format'], /--format <value>' argument missing/);
  assertUsageError(['check', '--format', 'xml'], /--format takes text or json, not 'xml'/);
});

test('every command rejects an unknown option and a value given to a flag', () => {
  for (const command of ['check', 'sections', 'link-map', 'fix']) {
    assertUsageError([command, '--bogus', 'x'], /unknown option '--bogus'/i);
    assertUsageError([command, '-q', 'x'], /unknown option '-q'/i);
  }
  assertUsageError(['sections', '--json=yes', elf], /'--json' does not take an argument/);
  assertUsageError(['link-map', '--script', script, '-r=1', elf], /unknown option|does not take an argument/i);
  assertUsageError(['fix', '--force=no', '--fix', 'A', 'Makefile'], /'--force' does not take an argument/);
});

test('missing operands: each command says what is missing', () => {
  assertUsageError(['sections'], /no input files/);
  assertUsageError(['link-map', elf], /missing --script SCRIPT/);
  assertUsageError(['link-map', '--script'], /--script <value>' argument missing/);
  assertUsageError(['link-map', '--script', script], /no object given/);
  assertUsageError(['fix', 'Makefile'], /missing --fix ID/);
  assertUsageError(['fix', '--fix'], /--fix <value>' argument missing/);
  assertUsageError(['fix', '--fix', 'no-such-fix', 'Makefile'], /no fix 'no-such-fix'/);
  assertUsageError(['fix', '--fix', 'A'], /no FILE given/);
  assertUsageError(['fix', '--fix', 'A', 'one', 'two'], /one FILE at a time/);
});

test('--help prints the usage on stdout and exits 0 in every command', () => {
  for (const command of ['check', 'sections', 'link-map', 'fix'])
    for (const flag of ['--help', '-h']) {
      const r = run(command, flag);
      assert.equal(r.status, 0, `${command} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: kbuild-diagnostics ${command} `));
      assert.equal(r.stderr, '');
    }
});

test('`--` ends the options in every command: a file named -x is read as a file', () => {
  copyFileSync(elf, join(tmp, '-x.o'));
  const sections = run('sections', '--', '-x.o');
  assert.equal(sections.status, 0, sections.stderr);
  assert.equal(sections.stdout, run('sections', elf).stdout.replaceAll(elf, '-x.o'));

  const linkMap = run('link-map', '--script', script, '--', '-x.o');
  assert.equal(linkMap.status, 0, linkMap.stderr);
  assert.match(linkMap.stdout, /^-x\.o:\(\.text\) -> /m);

  // A kernel tree in a folder named -tree: check finds the nvhe Makefile's problem in it, and fix fixes it.
  cpSync(join(root, 'test', 'fixtures', 'sample-kernel'), join(tmp, '-tree'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const check = run('check', '--format', 'json', '--', '-tree');
  assert.equal(check.status, 1, check.stderr);
  const found = JSON.parse(check.stdout) as { found: number; results: { file: string }[] };
  assert.ok(found.found >= 1, check.stdout);
  assert.ok(
    found.results.some((r) => r.file === join(tmp, '-tree', NVHE, 'Makefile')),
    check.stdout,
  );

  const makefile = join('-tree', NVHE, 'Makefile');
  const before = readFileSync(join(tmp, makefile), 'utf8');
  const fix = run('fix', '--fix', 'A', '--', makefile);
  assert.equal(fix.status, 0, fix.stderr);
  assert.match(fix.stdout, /applied nvhe-profile-metadata fix A/);
  assert.notEqual(readFileSync(join(tmp, makefile), 'utf8'), before);
  const again = run('check', '--', '-tree');
  assert.equal(again.status, 0, again.stdout + again.stderr);
});
