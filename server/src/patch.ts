// Writes a fix as a patch ready for `git am`: mbox header, the rule's subject and body (wrapped to
// at most 75 columns, as checkpatch asks), diffstat and a unified diff.
import { splitLines } from './make/edits';

/** One file a patch changes. */
export interface PatchFile {
  /** Path relative to the kernel tree, e.g. drivers/foo/Makefile. */
  relativePath: string;
  oldText: string;
  newText: string;
}

export interface PatchInput {
  /** Kernel-style subject line, e.g. `subsystem: component: What the patch does`. */
  subject: string;
  /** The commit message body (prose; wrapped here). */
  body: string;
  /** The files the fix changes, in the order the diff lists them. */
  files: PatchFile[];
  author: string;
  date: Date;
}

/** Wraps prose at `width` columns; indented lines (quoted output) are kept as they are. */
export function wrap(text: string, width = 72): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    if (para.startsWith(' ') || para === '') {
      out.push(para);
      continue;
    }
    let line = '';
    for (const word of para.split(/\s+/)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(line);
  }
  return out.join('\n');
}

/** One hunk around the changed region (our fixes change one contiguous region per edit group). */
function unifiedDiff(
  path: string,
  oldText: string,
  newText: string,
  context = 3,
): { diff: string; added: number; removed: number } {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Drop the empty string after a final newline so line counts match `diff`.
  if (a[a.length - 1] === '') a.pop();
  if (b[b.length - 1] === '') b.pop();
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const start = Math.max(0, pre - context);
  const endA = Math.min(a.length, a.length - suf + context);
  const endB = Math.min(b.length, b.length - suf + context);
  const lines: string[] = [];
  for (let i = start; i < pre; i++) lines.push(' ' + a[i]);
  for (let i = pre; i < a.length - suf; i++) lines.push('-' + a[i]);
  for (let i = pre; i < b.length - suf; i++) lines.push('+' + b[i]);
  for (let i = a.length - suf; i < endA; i++) lines.push(' ' + a[i]);
  const lenA = endA - start;
  const lenB = endB - start;
  const header = `@@ -${lenA === 0 ? start : start + 1},${lenA} +${lenB === 0 ? start : start + 1},${lenB} @@`;
  const diff = [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`, header, ...lines].join('\n') + '\n';
  return { diff, added: b.length - suf - pre, removed: a.length - suf - pre };
}

export function makePatch(p: PatchInput): { patch: string; fileName: string } {
  // Patches use LF; a CRLF file's lines are compared without their CR.
  const diffs = p.files.map((f) => ({
    path: f.relativePath,
    ...unifiedDiff(f.relativePath, f.oldText.replace(/\r\n/g, '\n'), f.newText.replace(/\r\n/g, '\n')),
  }));
  const diff = diffs.map((d) => d.diff).join('');
  const added = diffs.reduce((n, d) => n + d.added, 0);
  const removed = diffs.reduce((n, d) => n + d.removed, 0);
  const { subject, body } = p;
  const changes = [`${added} insertion${added === 1 ? '' : 's'}(+)`];
  if (removed > 0) changes.push(`${removed} deletion${removed === 1 ? '' : 's'}(-)`);
  // git's diffstat: names padded to the longest, then the change count and its +/- bar.
  const width = Math.max(...diffs.map((d) => d.path.length));
  const lines = diffs.map(
    (d) => ` ${d.path.padEnd(width)} | ${d.added + d.removed} ${'+'.repeat(d.added)}${'-'.repeat(d.removed)}\n`,
  );
  const stat = `${lines.join('')} ${diffs.length} file${diffs.length === 1 ? '' : 's'} changed, ${changes.join(', ')}\n`;
  const patch =
    `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n` +
    `From: ${p.author}\n` +
    `Date: ${p.date.toUTCString().replace('GMT', '+0000')}\n` +
    `Subject: [PATCH] ${subject}\n\n` +
    `${wrap(body)}\n\n` +
    `Signed-off-by: ${p.author}\n` +
    `---\n${stat}\n${diff}-- \nkbuild-diagnostics\n`;
  const fileName = `0001-${subject.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.patch`;
  return { patch, fileName };
}
