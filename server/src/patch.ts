// Writes a fix as a patch ready for `git am`: mbox header, kernel-style subject, a body that explains
// the failure (lines of at most 75 columns, as checkpatch asks), diffstat and a unified diff.
import type { FixForm } from './rules/nvheFixes';
import { splitLines } from './rules/nvheFixes';

export interface PatchInput {
  form: FixForm;
  /** Path of the Makefile relative to the kernel tree, e.g. arch/arm64/kvm/hyp/nvhe/Makefile. */
  relativePath: string;
  oldText: string;
  newText: string;
  author: string;
  date: Date;
  /** The object gen-hyprel reads, relative to the build (default: kvm_nvhe.tmp.o beside the Makefile). */
  objectPath?: string;
}

const SUBJECTS: Record<FixForm, string> = {
  A: 'KVM: arm64: nvhe: Filter out profile-use flags for hyp code',
  B: 'KVM: arm64: nvhe: Remove .llvm.call-graph-profile before gen-hyprel',
};

/**
 * The failure, the same for both forms. gen-hyprel's message is quoted without its "error: " prefix:
 * starting with the path keeps the long line grep-able and within checkpatch's rules (it allows
 * over-long "path: message" lines).
 */
function failure(object: string): string {
  return (
    'With a profile (KCFLAGS=-fprofile-sample-use=... or -fprofile-use=...), ' +
    'clang 13 and later emit a .llvm.call-graph-profile section with an ' +
    'SHT_REL relocation section into every hyp object. ld -r keeps it in ' +
    `${object.slice(object.lastIndexOf('/') + 1)}, and gen-hyprel, which handles only SHT_RELA, stops the ` +
    'build with an error:\n\n' +
    `  ${object}: Unexpected SHT_REL section ".rel.llvm.call-graph-profile"`
  );
}

const REMEDIES: Record<FixForm, string> = {
  A: 'Filter every profile-use spelling clang accepts out of KBUILD_CFLAGS for the nVHE code, as is already done for ftrace, SCS and CFI flags.',
  B: 'Remove the section before gen-hyprel reads the object; objcopy drops its relocation section with it. The profile still guides the compiler.',
};

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
export function unifiedDiff(path: string, oldText: string, newText: string, context = 3): { diff: string; added: number; removed: number } {
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
  const oldText = p.oldText.replace(/\r\n/g, '\n');
  const newText = p.newText.replace(/\r\n/g, '\n');
  const { diff, added, removed } = unifiedDiff(p.relativePath, oldText, newText);
  const subject = SUBJECTS[p.form];
  const object = p.objectPath ?? `${p.relativePath.slice(0, p.relativePath.lastIndexOf('/') + 1)}kvm_nvhe.tmp.o`;
  const body = `${failure(object)}\n\n${REMEDIES[p.form]}`;
  const changes = [`${added} insertion${added === 1 ? '' : 's'}(+)`];
  if (removed > 0) changes.push(`${removed} deletion${removed === 1 ? '' : 's'}(-)`);
  const stat = ` ${p.relativePath} | ${added + removed} ${'+'.repeat(added)}${'-'.repeat(removed)}\n 1 file changed, ${changes.join(', ')}\n`;
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
