// Locates an extracted Debian linux-source tree for tests that need real kernel files.
// KBD_LINUX_<VERSION> (e.g. KBD_LINUX_6_12=/path) wins; otherwise scripts/kernel-tree.sh extracts
// /usr/src/linux-source-VERSION.tar.xz once into ~/.cache/kbuild-diagnostics.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Bundled tests run from out/test/<dir>/ (a rule's from out/test/rules/<id>/ or out/test/kernel/<id>/),
// sources from test/<dir>/ or server/src/rules/<id>/test/: resolve from the nearest package.json above.
function findRepoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
export const root = findRepoRoot();

/** Path of the extracted tree, or a reason why there is none. */
export function kernelTree(version: string): { path: string } | { missing: string } {
  const env = process.env[`KBD_LINUX_${version.replace(/\./g, '_')}`];
  if (env)
    return existsSync(env) ? { path: env } : { missing: `KBD_LINUX_${version} points to ${env}, which does not exist` };
  if (!existsSync(`/usr/src/linux-source-${version}.tar.xz`)) {
    return { missing: `linux-source-${version} is not installed (apt-get install linux-source-${version})` };
  }
  const path = execFileSync('bash', [join(root, 'scripts', 'kernel-tree.sh'), version], { encoding: 'utf8' }).trim();
  return { path };
}

/**
 * For `test(name, { skip: skipUnlessKernel(v) }, ...)`: on CI a missing tree is a failure, not a skip,
 * so this throws there; elsewhere it returns the reason to skip (printed by the runner as a skip).
 */
export function skipUnlessKernel(version: string): string | false {
  const t = kernelTree(version);
  if ('path' in t) return false;
  if (process.env.CI) throw new Error(`CI needs the kernel tree: ${t.missing}`);
  return t.missing;
}
