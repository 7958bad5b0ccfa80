// Hover renders workspace text (names and values) as code spans, never as markdown: no live link, no
// remote image, no HTML, whatever backticks, brackets or line breaks the value holds (issue 13).
// Rendered with markdown-it (CommonMark, installed with @vscode/vsce) when it is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { evaluateMakefile } from '../../server/src/make/evaluator';
import { hoverAt, inlineCode } from '../../server/src/make/hover';
import { parseMakefile } from '../../server/src/make/parser';

type Md = { render(s: string): string };
function markdownIt(): Md | null {
  try {
    const req = createRequire(__filename);
    const MarkdownIt = req('markdown-it') as new (opts?: { html?: boolean; linkify?: boolean }) => Md;
    // The most permissive settings: raw HTML on, bare URLs linkified.
    return new MarkdownIt({ html: true, linkify: true });
  } catch {
    return null;
  }
}

const HOSTILE = [
  'a` [Click](https://evil.example/x) ![](https://evil.example/p.png) `b',
  '``` [x](https://evil.example/x) ```',
  '`` ![i](https://evil.example/p.png)',
  '<img src="https://evil.example/p.png"> <a href="https://evil.example">x</a>',
  'line1\n\n[Click](https://evil.example/x)\n\n![](https://evil.example/p.png)',
  '\\` [Click](https://evil.example/x)',
  ' https://evil.example/x ',
  '&lt;img src=x&gt; &#96; [Click](https://evil.example/x)',
  '`',
  ' ` ',
];

test('inlineCode: nothing breaks out of the code span (markdown-it, html and linkify on)', (t) => {
  const md = markdownIt();
  if (!md) {
    t.skip('markdown-it is not installed');
    return;
  }
  for (const v of HOSTILE) {
    const html = md.render(`Value here: ${inlineCode(v)}`);
    assert.doesNotMatch(html, /<a[\s>]|<img[\s>]/, `${JSON.stringify(v)} rendered as ${html}`);
    assert.equal((html.match(/<code>/g) ?? []).length, 1, html);
    assert.equal((html.match(/<p>/g) ?? []).length, 1, `one paragraph: ${html}`);
  }
  assert.equal(inlineCode('-O2 -g'), '`-O2 -g`', 'plain values keep their look');
  assert.equal(inlineCode(''), '*(empty)*');
});

test("hover on the issue's value: the link and the image stay text inside code", (t) => {
  const text =
    'X := a\\` [Click](https://evil.example/x) ![](https://evil.example/p.png) \\`b\nY := $(X)\ndefine [Z](https://evil.example/z)\nline1\n\n![](https://evil.example/p.png)\nendef\n';
  const mf = parseMakefile(text);
  const ev = evaluateMakefile(mf);
  const md = markdownIt();
  for (const pos of [
    { line: 0, character: 0 },
    { line: 1, character: 7 },
    { line: 2, character: 9 },
  ]) {
    const h = hoverAt(mf, ev, pos);
    assert.ok(h, JSON.stringify(pos));
    assert.ok(h.variable.length > 0);
    if (!md) continue;
    const html = md.render(h.markdown);
    assert.doesNotMatch(html, /<a[\s>]|<img[\s>]/, `${JSON.stringify(pos)}: ${html}`);
    assert.match(html, /evil\.example/, 'the text is still shown');
  }
  if (!md) t.skip('markdown-it is not installed: markdown checked for code spans only');
  const h = hoverAt(mf, ev, { line: 0, character: 0 });
  assert.ok(h);
  assert.equal(h.variable, 'X');
  assert.match(h.markdown, /^\*\*`X`\*\* — simple variable/);
});
