// What the kernel tier's real builds share: which host tools or Debian sources are missing (a skip
// reason, a failure on CI), a tree prepared by one of scripts/*.sh (cached under $KBD_CACHE; the script
// prints the tree's path last), running make or a build task on it, and the arm64 vDSO pieces the
// orphan rule's tests and the build task's test use (its directory, its clean, ld.lld's orphan lines).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './kernelTree';

/**
 * Why these tools or /usr/src/linux-source-<version>.tar.xz are missing, or undefined when all are here.
 * On CI a missing one throws instead (the kernel tier must run there, not skip).
 */
export function missingToolchain(tools: string[], sources: string[] = []): string | undefined {
  const missing =
    tools.filter((t) => spawnSync('which', [t]).status !== 0).map((t) => `${t} is not installed`)[0] ??
    sources
      .filter((v) => !existsSync(`/usr/src/linux-source-${v}.tar.xz`))
      .map((v) => `linux-source-${v} is not installed`)[0];
  if (missing && process.env.CI) throw new Error(`CI needs the kernel toolchain: ${missing}`);
  return missing;
}

/** Runs scripts/<script> with `args` and returns the tree it prints last (it prepares or reuses it). */
export function preparedTree(script: string, args: string[] = []): string {
  const out = execFileSync('bash', [join(root, 'scripts', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: 30 * 60_000,
  });
  return out.trim().split('\n').pop() as string;
}

export interface BuildRun {
  status: number;
  log: string;
}

/** Runs a build command (`make ...`, or a build task's command) in `cwd` with -j2; a failure is a result. */
export function runBuild(cwd: string, command: string, args: string[]): BuildRun {
  const r = spawnSync(command, [...args, '-j2'], { cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 20 * 60_000 });
  return { status: r.status ?? 1, log: `${r.stdout}\n${r.stderr}` };
}

/** `make ARCH=arm64 LLVM=-19 <args>` in the tree. */
export function makeArm64(tree: string, args: string[]): BuildRun {
  return runBuild(tree, 'make', ['-C', tree, 'ARCH=arm64', 'LLVM=-19', ...args]);
}

export const VDSO = 'arch/arm64/kernel/vdso';

/** The vDSO's outputs removed, so the next build compiles and links it anew. */
export function cleanVdso(tree: string): void {
  const dir = join(tree, VDSO);
  for (const n of readdirSync(dir))
    if (/\.(o|so|dbg|lds)$/.test(n) || /^\..*\.cmd$/.test(n)) rmSync(join(dir, n), { force: true });
}

/** ld.lld's orphan lines in a build log, without the `ld.lld-19: error: ` prefix, sorted. */
export function lldOrphanLines(log: string, kind: 'error' | 'warning'): string[] {
  return [...log.matchAll(new RegExp(`^ld\\.lld(?:-\\d+)?: ${kind}: (.*is being placed in '.*')$`, 'gm'))]
    .map((m) => m[1])
    .sort();
}

/** The ld.lld orphan lines a diagnostic's message predicts, sorted. */
export function predictedOrphanLines(message: string): string[] {
  return [...message.matchAll(/(\S+:\([^)]*\) is being placed in '[^']*')/g)].map((m) => m[1]).sort();
}

/** The section names of an ELF file, as llvm-readelf-19 -S lists them. */
export function sectionNames(file: string): string[] {
  const out = execFileSync('llvm-readelf-19', ['-S', '-W', file], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1]);
}
