// Playwright UI checks on the real-config session's page (Linux 6.12, arch/arm64/Makefile with an O=
// defconfig build): the editor renders the faded branches and the inlay hints that the suite proved
// through the VS Code API. The suite leaves the editor on the part of the file to look at and writes
// what it must show into $KBD_E2E_UI_DIR/expect.json ({ file, top, fadedLines, hints: {line: labels} },
// 1-based lines). The editor's DOM is read by line number (the gutter's `.line-numbers` and the
// `.view-line` at the same `top`): VS Code renders an Unnecessary diagnostic as an inline decoration
// `squiggly-inline-unnecessary` (faded text), and an inlay hint as injected text in a span of a
// dynamic class `dyn-rule-*` inside the line. Then the picture of the editor. Every wait is bounded.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uiCheckRunner } from './ui.mjs';

/** The visible lines of the active editor: number, text, faded words, inlay hint labels, opacity of the faded text. */
async function renderedLines(page) {
  return page
    .locator('.editor-group-container.active .monaco-editor')
    .first()
    .evaluate((ed) => {
      const tops = new Map();
      for (const m of ed.querySelectorAll('.margin-view-overlays > div')) {
        const n = m.querySelector('.line-numbers');
        if (n) tops.set(m.style.top, Number(n.textContent.trim()));
      }
      const out = [];
      for (const v of ed.querySelectorAll('.view-lines .view-line')) {
        const line = tops.get(v.style.top);
        if (!line) continue;
        const spans = [...v.querySelectorAll('span span, span')].filter((s) => s.children.length === 0);
        const isHint = (s) => /\bdyn-rule-/.test(s.className);
        const faded = spans.filter((s) => !isHint(s) && s.closest('.squiggly-inline-unnecessary'));
        const unfaded = spans.filter((s) => !isHint(s) && !s.closest('.squiggly-inline-unnecessary'));
        const hints = [];
        let before = '';
        for (const s of spans) {
          if (!isHint(s)) before += s.textContent;
          else if (s.textContent.length > 0)
            hints.push({ label: s.textContent, before: before.replace(/\u00a0/g, ' ') });
        }
        out.push({
          line,
          text: v.textContent.replace(/\u00a0/g, ' '),
          faded: faded
            .map((s) => s.textContent)
            .join('')
            .replace(/\u00a0/g, ' '),
          unfaded: unfaded
            .map((s) => s.textContent)
            .join('')
            .replace(/\u00a0/g, ' '),
          opacity: faded.length
            ? Number(
                ed.ownerDocument.defaultView.getComputedStyle(faded[0].closest('.squiggly-inline-unnecessary')).opacity,
              )
            : 1,
          hints: hints.map((h) => h.label),
          hintPlaces: hints.map((h) => h.before),
        });
      }
      return out.sort((a, b) => a.line - b.line);
    });
}

/** Runs named checks; returns { passed, failed, lines }. */
export async function configUiChecks(page, { uiDir, artifacts, say, screenshot }) {
  const { check, result } = uiCheckRunner(page, artifacts, say, 8);

  const expectFile = join(uiDir, 'expect.json');
  if (!existsSync(expectFile)) {
    return { passed: 0, failed: 1, lines: ['the suite wrote no expect.json (its editor test failed or did not run)'] };
  }
  const expect = JSON.parse(readFileSync(expectFile, 'utf8'));
  const fadedSet = new Set(expect.fadedLines);
  let rendered = [];

  await check(`the editor shows ${expect.file} from line ${expect.top}`, async () => {
    await page.keyboard.press('Escape');
    await page.locator('.tab.active', { hasText: expect.file }).waitFor({ state: 'visible', timeout: 15_000 });
    // Waited for: the first line the suite revealed is rendered, with its hints (the hint provider
    // answers after the text is painted, and each scroll asks again).
    const deadline = Date.now() + 30_000;
    for (;;) {
      rendered = await renderedLines(page);
      const shown = rendered.filter((r) => expect.hints[r.line]);
      const ready =
        rendered.some((r) => r.line === expect.top) &&
        shown.length > 0 &&
        shown.every((r) => r.hints.length === expect.hints[r.line].length) &&
        rendered.some((r) => fadedSet.has(r.line) && r.faded.trim());
      if (ready) break;
      if (Date.now() > deadline)
        throw new Error(
          `lines shown: ${rendered.map((r) => r.line).join(',') || 'none'}; ${JSON.stringify(rendered.slice(0, 6))}`,
        );
      await page.waitForTimeout(250);
    }
  });

  await check('faded text (squiggly-inline-unnecessary) on exactly the lines of the branches not taken', async () => {
    const wrong = [];
    let fadedShown = 0;
    for (const r of rendered) {
      if (!r.text.trim()) continue;
      const want = fadedSet.has(r.line);
      const got = r.faded.trim().length > 0;
      if (want && got) fadedShown++;
      if (want !== got) wrong.push(`${r.line}: ${want ? 'not faded' : 'faded'}: ${r.text.trim()}`);
      // The whole line's text is faded, not a part of it.
      else if (got && r.unfaded.trim())
        wrong.push(`${r.line}: ${JSON.stringify(r.unfaded.trim())} of ${JSON.stringify(r.text.trim())} is not faded`);
      if (got && !(r.opacity < 1)) wrong.push(`${r.line}: faded text has opacity ${r.opacity}`);
    }
    if (fadedShown < 3) wrong.push(`only ${fadedShown} faded lines are on screen`);
    if (wrong.length) throw new Error(wrong.join('\n'));
    say(`  ${fadedShown} faded lines on screen`);
  });

  await check('inlay hints rendered after the options, with the .config values', async () => {
    const wrong = [];
    let shown = 0;
    for (const r of rendered) {
      const want = expect.hints[r.line] ?? [];
      if (JSON.stringify(r.hints) !== JSON.stringify(want))
        wrong.push(`${r.line}: hints ${JSON.stringify(r.hints)}, expected ${JSON.stringify(want)}: ${r.text.trim()}`);
      else shown += want.length;
      // Each label is drawn right after its option: the line's own text before it ends in `$(CONFIG_X)` or `CONFIG_X`.
      r.hintPlaces.forEach((place, k) => {
        if (!/CONFIG_\w+\)?$/.test(place))
          wrong.push(`${r.line}: hint ${JSON.stringify(r.hints[k])} drawn after ${JSON.stringify(place)}`);
      });
    }
    if (shown < 3) wrong.push(`only ${shown} hints are on screen`);
    if (wrong.length) throw new Error(wrong.join('\n'));
    say(`  ${shown} inlay hints on screen`);
  });

  // Not a check (it asserts nothing): the picture of the editor with both.
  {
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, screenshot);
    await page.screenshot({ path: file }).then(
      () => say(`screenshot ${file}`),
      (e) => say(`screenshot failed: ${e.message}`),
    );
  }
  return result();
}
