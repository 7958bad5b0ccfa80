// Where an edit can go in a linker script's source: SECTIONS' closing brace and the /DISCARD/ output
// sections written in its body; braces and /DISCARD/ in comments, strings and #define lines do not count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scriptSourceSites } from '../../server/src/lds/sourceSites';

test('SECTIONS and its /DISCARD/ blocks, past comments, strings and preprocessor lines', () => {
  const text = [
    '/* SECTIONS { /DISCARD/ : { } } */',
    '#define DISCARDS /DISCARD/ : { \\',
    '\t*(.exit.text) }',
    'OUTPUT_FORMAT("a{b", "c}d")',
    'SECTIONS',
    '{',
    '\t.text : { *(.text) } // }',
    '#ifdef X',
    '\t/DISCARD/ : { *(.x) }',
    '#endif',
    '\t/DISCARD/\t: {',
    '\t\t*(.comment)',
    '\t}',
    '}',
    'PHDRS { text PT_LOAD; }',
  ].join('\n');
  const s = scriptSourceSites(text);
  assert.deepEqual(s.sections, { close: { line: 13, character: 0 }, ownLine: true, innerIndent: '\t' });
  assert.deepEqual(s.discards, [
    { close: { line: 8, character: 21 }, ownLine: false, innerIndent: '\t\t' },
    { close: { line: 12, character: 1 }, ownLine: true, innerIndent: '\t\t' },
  ]);
});

test('no SECTIONS: no sites', () => {
  assert.deepEqual(scriptSourceSites('/* nothing */\nENTRY(_start)\n'), { discards: [] });
});
