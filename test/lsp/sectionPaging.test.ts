// The explorer pages through a vmlinux.o-sized object: listSections answers one page (SECTION_PAGE)
// with the total, pages on with `offset`, and `only: 'offending'` pages through the marked sections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { SECTION_PAGE } from '../../server/src/lspExt';
import { root } from '../helpers/kernelTree';
import { LspClient } from '../helpers/lspClient';

interface Page {
  sections: { index: number; name: string; offending?: string }[];
  total: number;
}

test('listSections pages through 65,405 sections; offending ones can be paged alone', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbd-paging-'));
  const lsp = new LspClient({ KBUILD_DIAGNOSTICS_DEBOUNCE_MS: '0' });
  try {
    const big = join(dir, 'many-sections.o');
    writeFileSync(big, gunzipSync(readFileSync(join(root, 'test', 'fixtures', 'elf', 'many-sections.o.gz'))));
    await lsp.initialize(dir);
    const objectUri = pathToFileURL(big).toString();
    const first = await lsp.request<Page>('kbuild/listSections', { objectUri }, 30_000);
    assert.equal(first.sections.length, SECTION_PAGE);
    assert.ok(first.total > 65_000, String(first.total));
    const last = await lsp.request<Page>(
      'kbuild/listSections',
      { objectUri, offset: first.total - 10, limit: SECTION_PAGE },
      30_000,
    );
    assert.equal(last.sections.length, 10);
    assert.equal(last.sections[9].index, first.total - 1);
    const profiled = pathToFileURL(join(root, 'test', 'fixtures', 'elf', 'aarch64-hyp-profile.o')).toString();
    const marked = await lsp.request<Page>('kbuild/listSections', { objectUri: profiled, only: 'offending' });
    assert.ok(
      marked.sections.length > 0 && marked.sections.every((s) => s.offending),
      JSON.stringify(marked.sections.map((s) => s.name)),
    );
    assert.equal(marked.total, marked.sections.length);
  } finally {
    await lsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
