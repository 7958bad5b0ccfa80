// fs/readRecord.ts: a memo of a computation over files, kept while every path it read (files,
// lookups that found nothing, listings) is in the state it had. Real files in a temp folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateMemo } from '../../server/src/fs/readRecord';
import { listNamesSync, readRegularTextSync, statSafeSync } from '../../server/src/fs/safeRead';

const tmp = mkdtempSync(join(tmpdir(), 'kbd-readrecord-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A computation that reads `a`, looks for `b` (absent at first) and lists `dir`; counts its runs. */
function setup(name: string) {
  const root = join(tmp, name);
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'a'), 'one');
  let runs = 0;
  const memo = new FileStateMemo<string>(4);
  const compute = () => {
    runs++;
    const a = readRegularTextSync(join(root, 'a'));
    const b = statSafeSync(join(root, 'b')).ok ? 'b' : 'no b';
    const names = (listNamesSync(join(root, 'dir')) ?? []).sort().join(',');
    return `${a.ok ? a.text : '?'}|${b}|${names}`;
  };
  return { root, memo, get: () => memo.get('k', compute), runs: () => runs };
}

test('kept while nothing it read changed', () => {
  const s = setup('kept');
  assert.equal(s.get(), 'one|no b|');
  assert.equal(s.get(), 'one|no b|');
  assert.equal(s.runs(), 1);
});

test('computed again when a file it read changes, even to the same size', () => {
  const s = setup('changed');
  s.get();
  writeFileSync(join(s.root, 'a'), 'two');
  // Same size, an older mtime than before: the change is seen by inode state, not by mtime order.
  utimesSync(join(s.root, 'a'), new Date(2000, 0, 1), new Date(2000, 0, 1));
  assert.equal(s.get(), 'two|no b|');
  assert.equal(s.runs(), 2);
});

test('computed again when a path it found absent appears, and when a listed folder changes', () => {
  const s = setup('appears');
  s.get();
  writeFileSync(join(s.root, 'b'), '');
  assert.equal(s.get(), 'one|b|');
  writeFileSync(join(s.root, 'dir', 'x'), '');
  assert.equal(s.get(), 'one|b|x');
  assert.equal(s.runs(), 3);
});

test('an outer memo depends on what an inner one read, also when the inner one was a hit', () => {
  const s = setup('nested');
  const outer = new FileStateMemo<string>();
  let outerRuns = 0;
  s.get(); // the inner entry exists before the outer computation
  const get = () => outer.get('o', () => (outerRuns++, `outer(${s.get()})`));
  assert.equal(get(), 'outer(one|no b|)');
  assert.equal(get(), 'outer(one|no b|)');
  assert.equal(outerRuns, 1);
  writeFileSync(join(s.root, 'a'), 'three');
  assert.equal(get(), 'outer(three|no b|)');
  assert.equal(outerRuns, 2);
});

test('bounded: the least recently used key goes first', () => {
  const memo = new FileStateMemo<number>(2);
  let runs = 0;
  const get = (k: string) => memo.get(k, () => ++runs);
  get('a');
  get('b');
  get('a'); // a is now the most recently used
  get('c'); // evicts b
  assert.equal(runs, 3);
  get('a');
  assert.equal(runs, 3);
  get('b');
  assert.equal(runs, 4);
});

test('a path absent under folders that do not exist yet: computed again once the whole path is made', () => {
  const root = join(tmp, 'deep');
  mkdirSync(root);
  const memo = new FileStateMemo<boolean>();
  let runs = 0;
  const deep = join(root, 'x', 'y', 'z');
  const get = () => memo.get('deep', () => (runs++, readRegularTextSync(deep).ok));
  assert.equal(get(), false);
  assert.equal(get(), false);
  assert.equal(runs, 1);
  mkdirSync(join(root, 'x', 'y'), { recursive: true });
  writeFileSync(deep, 'now');
  assert.equal(get(), true);
  assert.equal(runs, 2);
});
