// State has one home: each server keeps its own parsed documents (Workspace), so two servers in one
// process that open the same URI at the same version with different text each answer from their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInProcess } from '../helpers/inProcessServer';

interface SymbolLike {
  name: string;
}

test('two in-process servers on the same URI do not share parsed documents', async () => {
  const dirA = mkdtempSync(join(tmpdir(), 'kbd-state-a-'));
  const a = await startInProcess(dirA, {});
  const b = await startInProcess(dirA, {});
  try {
    const file = join(dirA, 'Makefile');
    const uri = a.open(file, 'ONLY_IN_A := 1\n');
    b.open(file, 'ONLY_IN_B := 2\n');
    const params = { textDocument: { uri } };
    // Each server answers about its own text; the first answer fills a cache the second must not read.
    const fromA = (await a.client.sendRequest('textDocument/documentSymbol', params)) as SymbolLike[];
    const fromB = (await b.client.sendRequest('textDocument/documentSymbol', params)) as SymbolLike[];
    assert.deepEqual(
      fromA.map((s) => s.name),
      ['ONLY_IN_A'],
    );
    assert.deepEqual(
      fromB.map((s) => s.name),
      ['ONLY_IN_B'],
    );
    // Hover too (the same per-server document model, with the evaluation).
    const hover = async (s: typeof a) =>
      JSON.stringify(
        await s.client.sendRequest('textDocument/hover', {
          textDocument: { uri },
          position: { line: 0, character: 2 },
        }),
      );
    assert.match(await hover(a), /ONLY_IN_A/);
    assert.match(await hover(b), /ONLY_IN_B/);
    assert.doesNotMatch(await hover(b), /ONLY_IN_A/);
  } finally {
    a.close();
    b.close();
    rmSync(dirA, { recursive: true, force: true });
  }
});
