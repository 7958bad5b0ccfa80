// What a build's configuration means for a Makefile, computed by the tests independently of the
// server's code: the values of a .config, and which branches of the option tests `ifeq ($(CONFIG_X),lit)`,
// `ifneq`, `ifdef CONFIG_X`, `ifndef` the configuration does not take. Shared by the kernel tier
// (test/kernel/configView.test.ts, over LSP) and the e2e tier (test/e2e/suite/realConfig.ts, in VS Code).
import { readFileSync } from 'node:fs';

/** The .config as Kconfig wrote it: CONFIG_X=value (quotes of strings removed); `is not set` lines leave X out. */
export function readDotConfig(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

export interface Branch {
  /** undefined: the test is not a plain test of one option against a literal. */
  taken: boolean | undefined;
  /** First and last body line (0-based). */
  first: number;
  last: number;
  text: string;
}
export interface Chain {
  branches: Branch[];
  children: Chain[][];
}

/** The value of a condition `ifeq ($(CONFIG_X),lit)` / ifneq / ifdef CONFIG_X / ifndef; undefined for any other test. */
export function decide(test: string, config: Map<string, string>): boolean | undefined {
  const eq = /^(ifeq|ifneq)\s*\(\s*\$\((CONFIG_\w+)\)\s*,\s*([\w-]*)\s*\)$/.exec(test);
  if (eq) {
    const same = (config.get(eq[2]) ?? '') === eq[3];
    return eq[1] === 'ifeq' ? same : !same;
  }
  const def = /^(ifdef|ifndef)\s+(CONFIG_\w+)$/.exec(test);
  if (def) return def[1] === 'ifdef' ? config.has(def[2]) : !config.has(def[2]);
  return undefined;
}

/** The Makefile's conditionals, read from the text (no continuation lines in arch/arm64/Makefile's tests). */
export function conditionals(lines: string[], config: Map<string, string>): Chain[] {
  const top: Chain[] = [];
  const stack: { chain: Chain; list: Chain[] }[] = [];
  const current = () => stack[stack.length - 1];
  lines.forEach((raw, i) => {
    const t = raw.trim().replace(/\s+#.*$/, '');
    const open = /^(ifeq|ifneq|ifdef|ifndef)\b/.test(t);
    const orElse = /^else\b/.exec(t);
    const closeBranch = () => {
      const br = current().chain.branches.at(-1) as Branch;
      br.last = i - 1;
    };
    if (open) {
      const chain: Chain = {
        branches: [{ taken: decide(t, config), first: i + 1, last: -1, text: t }],
        children: [[]],
      };
      (stack.length ? (current().chain.children.at(-1) as Chain[]) : top).push(chain);
      stack.push({ chain, list: [] });
    } else if (orElse) {
      closeBranch();
      const rest = t.slice(4).trim();
      current().chain.branches.push({
        taken: rest === '' ? true : decide(rest, config),
        first: i + 1,
        last: -1,
        text: t,
      });
      current().chain.children.push([]);
    } else if (/^endif\b/.test(t)) {
      closeBranch();
      stack.pop();
    }
  });
  return top;
}

/**
 * Expected faded ranges ("first-last", 0-based lines): not-taken bodies of chains decided entirely
 * by the configuration, inside taken branches. Chains with a test this reading does not decide go to
 * `undecided` (the server may decide more of them; what it fades there is not judged by this).
 */
export function expectedFaded(chains: Chain[], out: string[], undecided: Branch[]): void {
  for (const c of chains) {
    if (c.branches.some((b) => b.taken === undefined)) {
      undecided.push(...c.branches);
      continue;
    }
    const takenAt = c.branches.findIndex((b) => b.taken);
    c.branches.forEach((b, k) => {
      if (k === takenAt) expectedFaded(c.children[k], out, undecided);
      else if (b.first <= b.last) out.push(`${b.first}-${b.last}`);
    });
  }
}

/** Whether the range "first-last" lies within one of the undecided branches (directive lines included). */
export function inUndecided(range: string, undecided: Branch[]): boolean {
  const [first, last] = range.split('-').map(Number);
  return undecided.some((b) => first >= b.first - 1 && last <= b.last + 1);
}
