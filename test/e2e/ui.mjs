// Playwright UI checks on the sample session's workbench page, run while the suite keeps the
// extension host alive (see test/e2e/suite/lib.ts uiHandshake). Every wait is bounded.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/vscode-web.mjs';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

/** The command palette label of a contributed command ("Category: Title"), or undefined. */
function paletteLabel(id) {
  const c = manifest.contributes?.commands?.find((x) => x.command === id);
  if (!c) return undefined;
  return c.category ? `${c.category}: ${c.title}` : c.title;
}

async function palette(page, text) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(text);
  return input;
}

async function rowsText(page, selector) {
  return page.locator(selector).evaluateAll((els) => els.map((e) => e.textContent?.trim() ?? ''));
}

/**
 * Named UI checks: `check(name, body)` runs one, says ok or FAIL (the first `keepLines` lines of the
 * error) and takes a picture of a failure; `result()` gives { passed, failed, lines }.
 */
export function uiCheckRunner(page, artifacts, say, keepLines) {
  const lines = [];
  let passed = 0;
  let failed = 0;
  const check = async (name, body) => {
    const t = Date.now();
    try {
      await body();
      passed++;
      say(`ok   ${name} (${Date.now() - t} ms)`);
    } catch (e) {
      failed++;
      const msg = `FAIL ${name}: ${e.message.split('\n').slice(0, keepLines).join('\n      ')}`;
      lines.push(msg);
      say(msg);
      await page
        .screenshot({ path: join(artifacts, `ui-fail-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`) })
        .catch(() => {});
    }
  };
  return { check, result: () => ({ passed, failed, lines }) };
}

/** Runs named checks; returns { passed, failed, lines }. */
export async function sampleUiChecks(page, { workspace, artifacts, say }) {
  const { check, result } = uiCheckRunner(page, artifacts, say, 6);

  await check('Problems panel shows the nvhe-profile-metadata error', async () => {
    const panel = page.locator('.markers-panel');
    if (!(await panel.isVisible())) {
      await palette(page, '>View: Focus Problems');
      await page.keyboard.press('Enter');
    }
    await panel.waitFor({ state: 'visible', timeout: 15_000 });
    const row = panel.locator('.monaco-list-row', { hasText: 'nvhe-profile-metadata' });
    await row
      .first()
      .waitFor({ state: 'visible', timeout: 20_000 })
      .catch(async () => {
        throw new Error(
          `no Problems row mentions nvhe-profile-metadata; rows: ${JSON.stringify(await rowsText(page, '.markers-panel .monaco-list-row'))}`,
        );
      });
    const text = await row.first().textContent();
    if (!/kbuild-diagnostics/.test(text ?? ''))
      throw new Error(`the Problems row does not name the source kbuild-diagnostics: ${text}`);
    if ((await row.first().locator('.codicon-error').count()) === 0)
      throw new Error(`the Problems row has no error icon: ${text}`);
  });

  await check('command palette lists the Kbuild Diagnostics commands', async () => {
    const wanted = ['kbuildDiagnostics.refreshSections', 'kbuildDiagnostics.applyFixA', 'kbuildDiagnostics.writePatch'];
    const labels = wanted.map((id) => [id, paletteLabel(id)]);
    const missing = labels.filter(([, l]) => !l).map(([id]) => id);
    if (missing.length) throw new Error(`package.json contributes no title for ${missing.join(', ')}`);
    for (const [id, label] of labels) {
      await palette(page, `>${label}`);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label });
      await row
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 })
        .catch(async () => {
          throw new Error(
            `"${label}" (${id}) not in the palette; rows: ${JSON.stringify(await rowsText(page, '.quick-input-list .monaco-list-row'))}`,
          );
        });
    }
    await page.keyboard.press('Escape');
  });

  await check('section explorer lists build dir, kvm_nvhe.tmp.o and marks .rel.llvm.call-graph-profile', async () => {
    const icon = page.locator(
      '.activitybar .action-item a[aria-label^="Kbuild"], .activitybar .action-item .action-label[aria-label^="Kbuild"]',
    );
    await icon
      .first()
      .waitFor({ state: 'visible', timeout: 10_000 })
      .catch(() => {
        throw new Error('no "Kbuild" item in the activity bar');
      });
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Sections' }) });
    if (!(await pane.first().isVisible())) {
      await page
        .locator('.activitybar .action-item', { has: icon })
        .first()
        .click({ timeout: 5000 })
        .catch(async () => {
          await palette(page, '>View: Show Kbuild');
          await page.keyboard.press('Enter');
        });
    }
    await pane
      .first()
      .waitFor({ state: 'visible', timeout: 10_000 })
      .catch(async () => {
        throw new Error(`no "Sections" pane; pane headers: ${JSON.stringify(await rowsText(page, '.pane-header'))}`);
      });
    const rows = pane.first().locator('.monaco-list-row');
    const target = rows.filter({ hasText: '.rel.llvm.call-graph-profile' });
    // Expand the build directory and kvm_nvhe.tmp.o rows (bounded: a few rounds).
    for (let round = 0; round < 6 && (await target.count()) === 0; round++) {
      await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
      const collapsed = rows.filter({ hasText: /build|kvm_nvhe\.tmp\.o/ }).and(page.locator('[aria-expanded="false"]'));
      const n = await collapsed.count();
      if (n === 0) await page.waitForTimeout(500);
      else await collapsed.first().click();
      await page.waitForTimeout(400);
    }
    const texts = await rows.evaluateAll((els) => els.map((e) => e.textContent?.trim() ?? ''));
    const iBuild = texts.findIndex((t) => /build/.test(t));
    const iObj = texts.findIndex((t) => t.includes('kvm_nvhe.tmp.o'));
    const iSec = texts.findIndex((t) => t.includes('.rel.llvm.call-graph-profile'));
    if (iBuild < 0 || iObj < 0 || iSec < 0) throw new Error(`rows: ${JSON.stringify(texts)}`);
    if (!(iBuild < iObj && iObj < iSec))
      throw new Error(`expected build dir, then kvm_nvhe.tmp.o, then its sections; rows: ${JSON.stringify(texts)}`);
    const marked = await target
      .first()
      .evaluate((el) => !!el.querySelector('.codicon-error, .codicon-error-small, [class*="codicon-error"]'));
    if (!marked) {
      const html = await target.first().evaluate((el) => el.innerHTML.slice(0, 600));
      throw new Error(`.rel.llvm.call-graph-profile row has no error icon: ${html}`);
    }
  });

  // Not a check (it asserts nothing): the picture of the section explorer + Problems panel.
  {
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, 'sample-sections-problems.png');
    await page.keyboard.press('Escape');
    await page.screenshot({ path: file }).then(
      () => say(`screenshot ${file}`),
      (e) => say(`screenshot failed: ${e.message}`),
    );
  }

  await check('grammar: Developer: Inspect Editor Tokens and Scopes shows kbuild scopes', async () => {
    // _workbench.captureSyntaxTokens (used by VS Code's own colorization tests) is only in the desktop
    // workbench, so the real tokenizer is asked through its inspector widget instead.
    const dir = join(workspace, 'e2e-grammar');
    mkdirSync(dir, { recursive: true });
    const src = [
      'obj-y += foo.o',
      'ccflags-y := -DFOO',
      'KBUILD_CFLAGS += -DBAR',
      '$(obj)/foo.o: $(src)/foo.c FORCE',
      '\t$(call if_changed,ld)',
      '',
    ];
    writeFileSync(join(dir, 'Kbuild'), src.join('\n'));
    const input = await palette(page, 'e2e-grammar/Kbuild');
    const fileRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Kbuild' });
    await fileRow.first().waitFor({ state: 'visible', timeout: 15_000 });
    await input.press('Enter');
    await page.locator('.tab.active', { hasText: 'Kbuild' }).waitFor({ state: 'visible', timeout: 10_000 });
    const probes = [
      { word: 'obj-y', line: 1, col: 2 },
      { word: 'ccflags-y', line: 2, col: 2 },
      { word: 'KBUILD_CFLAGS', line: 3, col: 3 },
      { word: 'call', line: 5, col: 8 }, // go-to-line columns are visual: the tab takes 4
      { word: 'if_changed', line: 5, col: 14 },
    ];
    const problems = [];
    const widget = page.locator('.token-inspect-widget');
    for (const p of probes) {
      const go = await palette(page, `:${p.line}:${p.col}`);
      await go.press('Enter');
      await page.waitForTimeout(200);
      // The inspector is a toggle that follows the cursor: open it once, then keep moving the cursor.
      if (!(await widget.isVisible())) {
        await palette(page, '>Developer: Inspect Editor Tokens and Scopes');
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Inspect Editor Tokens and Scopes' });
        await row.first().waitFor({ state: 'visible', timeout: 10_000 });
        await page.keyboard.press('Enter');
        await widget.waitFor({ state: 'visible', timeout: 10_000 });
      }
      let scopes;
      let token;
      const deadline = Date.now() + 5000;
      do {
        await page.waitForTimeout(200);
        token = await widget
          .evaluate((el) => {
            // <h2 class="tiw-token">TOKEN<span class="tiw-token-length">N chars</span></h2>
            const h2 = el.querySelector('.tiw-token');
            return h2?.firstChild?.nodeType === 3 ? (h2.firstChild.textContent ?? '') : '';
          })
          .catch(() => '');
        token = token.replace(/\s*\(\d+\)$/, '');
        scopes = await widget
          .locator('.tiw-metadata-scopes')
          .first()
          .evaluate((el) =>
            el.innerText
              .split('\n')
              .map((x) => x.trim())
              .filter(Boolean),
          )
          .catch(() => []);
      } while (!(token && p.word.includes(token.trim()) && scopes.length) && Date.now() < deadline);
      if (!(token && p.word.includes(token.trim()))) {
        problems.push(`${p.word} (${p.line}:${p.col}): the inspector shows token ${JSON.stringify(token)}`);
        continue;
      }
      const own = scopes.filter((sc) => sc !== 'source.kbuild' && sc.includes('kbuild'));
      if (!scopes.includes('source.kbuild') || own.length === 0)
        problems.push(
          `${p.word} (${p.line}:${p.col}, token ${JSON.stringify(token)}): scopes ${JSON.stringify(scopes)}`,
        );
      else say(`  ${p.word} (token ${JSON.stringify(token)}): ${own.join(' ')}`);
    }
    await palette(page, '>Developer: Inspect Editor Tokens and Scopes');
    await page.keyboard.press('Escape');
    if (problems.length) throw new Error(`no kbuild scope besides source.kbuild for:\n${problems.join('\n')}`);
  });

  return result();
}
