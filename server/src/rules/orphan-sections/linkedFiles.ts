// The files a link reads, as ld.lld names them: an object by its path; each member of a thin
// archive (what Kbuild's `ar cDPrST` makes: vmlinux.a, built-in.a, lib.a) as `archive(member)`, read
// from the member's own path. Under --whole-archive every member is linked; otherwise a member is
// linked only when the link uses one of its symbols: analysis.ts follows that from the objects'
// symbol tables (kbuild/archiveMembers.ts); when it cannot, orphans in such members are said as
// incomplete, never as a finding.
import * as path from 'node:path';
import { normalizePath } from '../../kbuild/recipes';
import type { BuildAccess } from '../rule';
import type { OrphanLink } from './links';

export interface LinkedFile {
  /** As ld.lld names the input in its messages. */
  name: string;
  /** The object's path relative to the build directory. */
  file: string;
  /** A member of an archive linked on demand. */
  onDemand: boolean;
}

/** The link's inputs with archives opened into their members (archives not built yet are left out). */
export async function linkedFiles(
  link: OrphanLink,
  build: BuildAccess | undefined,
  incomplete: string[],
): Promise<LinkedFile[]> {
  const out: LinkedFile[] = [];
  for (const input of link.inputs) {
    if (!input.endsWith('.a')) {
      out.push({ name: input, file: input, onDemand: false });
      continue;
    }
    if (!build) continue;
    const report = await build.reader.readObject(path.join(build.buildDir, input));
    if (report.error === 'file not found') continue;
    if (report.error || report.object?.kind !== 'archive') {
      incomplete.push(`${input}: ${report.error ?? 'not an archive'}`);
      continue;
    }
    if (!report.object.thin) {
      incomplete.push(`${input}: the members of a regular (not thin) archive are not read`);
      continue;
    }
    const onDemand = !(link.wholeArchives ?? []).includes(input);
    const dir = path.dirname(input);
    for (const m of report.object.members)
      out.push({ name: `${input}(${m.name})`, file: normalizePath(path.join(dir, m.name)), onDemand });
  }
  return out;
}

/**
 * What is said about orphans in members linked on demand that the link was not seen to pull in, when
 * the symbols of some inputs (`unread`) were not read: they may pull these in.
 */
export function onDemandNote(link: OrphanLink, found: { object: string; section: string }[], unread: string[]): string {
  const names = [...new Set(found.map((f) => f.object))];
  const sections = [...new Set(found.map((f) => f.section))];
  return (
    `${link.output}: ${names.length} archive member${names.length === 1 ? '' : 's'} linked only when ${link.output} uses ${names.length === 1 ? 'it' : 'them'} ` +
    `(${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}) hold ${sections.join(', ')}, which the script does not place; ` +
    `whether ld.lld links ${names.length === 1 ? 'it' : 'them'} is not known: the symbols of ${unread.slice(0, 3).join(', ')}${unread.length > 3 ? ', ...' : ''} were not read`
  );
}
