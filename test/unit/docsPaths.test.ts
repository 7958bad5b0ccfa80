// Docs name files of this repository (links and `code` spans); a renamed or deleted file would
// leave them pointing at nothing. Every such path must exist. Kernel paths (`arch/...`,
// `scripts/Makefile.lib`) are not ours: only names under this repository's own folders count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { root } from '../helpers/kernelTree';

/** Markdown files a reader meets: README, CHANGELOG, docs/, the rules' explanations. */
function docFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return tracked
    .split('\n')
    .filter((f) => f && !f.startsWith('test/fixtures/') && !f.startsWith('node_modules/'))
    .map((f) => join(root, f));
}

/** Base names of this repository's TypeScript and script files: a bare `name.ts` must be one of them. */
function ownBaseNames(): Set<string> {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return new Set(files.split('\n').map((f) => f.slice(f.lastIndexOf('/') + 1)));
}
// Only this repository writes TypeScript and .mjs; a bare name of another kind may be the kernel's.
const OWN_BARE = /^[\w.-]+\.(ts|mjs)$/;

// Folders only this repository has; `scripts/` is shared with the kernel (which has .sh and .py files
// there too, e.g. scripts/link-vmlinux.sh), so only the kind of file the kernel has not: .mjs.
const OWN_DIRS = /^(server|client|test|bench|docs|syntaxes|\.ci)\//;
const OWN_SCRIPT = /^scripts\/[\w.-]+\.mjs$/;
const OWN_TOP = /^(README|CHANGELOG|LICENSE|package|tsconfig|eslint\.config)[\w.-]*$/;
// Generated or placeholder names are not files to check.
const NOT_A_PATH = /[*<>{}$ ]|\.\.\.|…|^out\/|\/out\//;

export function namedPaths(markdown: string): { link: string[]; code: string[] } {
  const link = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((t) => !/^[a-z]+:|^#/.test(t) && !NOT_A_PATH.test(t));
  const code = [...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1].trim());
  return { link: link.map((l) => l.replace(/#.*$/, '')), code };
}

function isRepoPath(token: string): boolean {
  if (NOT_A_PATH.test(token)) return false;
  return OWN_DIRS.test(token) || OWN_SCRIPT.test(token) || OWN_TOP.test(token);
}

test('every repository path named in the docs exists', () => {
  const missing: string[] = [];
  const files = docFiles();
  assert.ok(files.length >= 5, `found only ${files.length} docs`);
  const baseNames = ownBaseNames();
  let checked = 0;
  for (const file of files) {
    const { link, code } = namedPaths(readFileSync(file, 'utf8'));
    const where = relative(root, file);
    for (const target of link) {
      checked++;
      if (!existsSync(join(dirname(file), decodeURIComponent(target)))) missing.push(`${where}: link ${target}`);
    }
    for (const token of code.filter(isRepoPath)) {
      checked++;
      // `server/src/x.ts:12` and `test/foo.test.ts` name files; a trailing `/` names a folder.
      const path = token.replace(/:\d+(-\d+)?$/, '');
      if (!existsSync(join(root, path))) missing.push(`${where}: \`${token}\``);
    }
    for (const token of code.filter((t) => OWN_BARE.test(t.replace(/:\d+(-\d+)?$/, '')))) {
      checked++;
      if (!baseNames.has(token.replace(/:\d+(-\d+)?$/, ''))) missing.push(`${where}: \`${token}\` (no such file here)`);
    }
  }
  assert.ok(checked > 20, `only ${checked} paths were checked: the scan is broken`);
  assert.deepEqual(missing, []);
});

test('the scan sees links and code spans, and leaves kernel paths alone', () => {
  const { link, code } = namedPaths(
    'See [x](docs/e2e.md#top), `server/src/a.ts:3`, `arch/arm64/Makefile`, [w](https://x.org).',
  );
  assert.deepEqual(link, ['docs/e2e.md']);
  assert.deepEqual(code.filter(isRepoPath), ['server/src/a.ts:3']);
  assert.equal(isRepoPath('scripts/Makefile.lib'), false);
  assert.equal(isRepoPath('scripts/link-vmlinux.sh'), false);
  assert.equal(isRepoPath('scripts/start.mjs'), true);
});
