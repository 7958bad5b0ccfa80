// Which members of the archives a link reads on demand (outside --whole-archive: Kbuild's lib.a in the
// vmlinux link) the linker pulls in, from the objects' symbol tables as ld.lld resolves them: every
// object linked whole defines its symbols and asks for its undefined ones; a member defining a
// symbol still asked for is pulled in (the first such member in command-line order), and then asks
// for its own. ld.lld resolves archives regardless of their order (no --start-group needed). Not
// followed: symbols the linker script or the command line ask for (ENTRY, -u, --defsym), which only
// ever add members. Knows no rule.
import * as path from 'node:path';
import { readLinkSymbols, type LinkSymbols } from '../elf/linkSymbols';
import type { BuildReader } from './buildModel';

export interface LinkInput {
  /** The object's path relative to the build directory. */
  file: string;
  /** A member of an archive linked on demand. */
  onDemand: boolean;
}

/**
 * The on-demand members the link pulls in (their `file`s), and the inputs whose symbols could not be
 * read (not built yet, not ELF): with any, `pulled` is what the others alone pull in, a lower bound.
 */
export async function pulledMembers(
  reader: BuildReader,
  buildDir: string,
  inputs: readonly LinkInput[],
): Promise<{ pulled: Set<string>; unread: string[] }> {
  const symbolsOf = (file: string): Promise<LinkSymbols | undefined> =>
    reader.derive(path.join(buildDir, file), 'link-symbols', (src, object) =>
      object.kind === 'elf' ? readLinkSymbols(src, object.elf) : Promise.reject(new Error('not ELF')),
    );
  const defined = new Set<string>();
  const asked: string[] = [];
  const take = (s: LinkSymbols): void => {
    for (const d of s.defined) defined.add(d);
    asked.push(...s.undefined);
  };
  const lazy = new Map<string, string>();
  const members = new Map<string, LinkSymbols>();
  const unread: string[] = [];
  for (const input of inputs) {
    const s = await symbolsOf(input.file);
    if (!s) unread.push(input.file);
    else if (!input.onDemand) take(s);
    else {
      members.set(input.file, s);
      for (const d of s.defined) if (!lazy.has(d)) lazy.set(d, input.file);
    }
  }
  const pulled = new Set<string>();
  while (asked.length > 0) {
    const name = asked.pop() as string;
    if (defined.has(name)) continue;
    const member = lazy.get(name);
    if (member === undefined || pulled.has(member)) continue;
    pulled.add(member);
    take(members.get(member) as LinkSymbols);
  }
  return { pulled, unread };
}
