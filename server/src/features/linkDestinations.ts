// The section explorer's destinations: which links of a build consume an object (the links the
// rules' findings report from the Makefiles, never guessed from names) and where each puts the
// object's sections (kbuild/linkPlacement.ts: the script the next build links with, placed as
// ld.lld does). Scripts are read and parsed once per build state (dropped by invalidate()).
import type { ElfFile } from '../elf/types';
import { linkScript, placeElfSections, type BuildLink, type LinkScript } from '../kbuild/linkPlacement';
import type { LinkPlacements } from '../rules/rule';
import type { FileAnalysis } from '../analysis';
import type { UnreadableLink } from './sectionWire';

/** The links that consume one object, sections placed, and those whose script could not be read. */
export interface ObjectLinks {
  placed: LinkPlacements[];
  unreadable: UnreadableLink[];
}

export const NO_LINKS: ObjectLinks = { placed: [], unreadable: [] };

interface KnownLink {
  link: BuildLink;
  root: string;
}

export class LinkDestinations {
  private readonly scripts = new Map<string, LinkScript>();

  /** `ws`: the analyses to take the links from (the workspace's, or the command line's own). */
  constructor(private readonly ws: { readonly analyses: ReadonlyMap<string, FileAnalysis> }) {}

  invalidate(): void {
    this.scripts.clear();
  }

  /** Every link the analyses of `buildDir` know, one per output (the one with orphan handling wins). */
  private linksOf(buildDir: string): KnownLink[] {
    const byOutput = new Map<string, KnownLink>();
    for (const a of this.ws.analyses.values()) {
      if (a.buildDir !== buildDir || !a.kernelRoot) continue;
      for (const f of a.findings.values()) {
        for (const link of f.links ?? []) {
          const have = byOutput.get(link.output);
          if (!have || (!have.link.orphanHandling && link.orphanHandling))
            byOutput.set(link.output, { link, root: a.kernelRoot });
        }
      }
    }
    return [...byOutput.values()];
  }

  /** The outputs of the links that read `buildPath` (relative to `buildDir`). */
  consumersOf(buildDir: string, buildPath: string): string[] {
    return this.linksOf(buildDir)
      .filter((k) => k.link.inputs.includes(buildPath))
      .map((k) => k.link.output);
  }

  private script(k: KnownLink, buildDir: string): LinkScript {
    const key = `${k.root}\0${buildDir}\0${k.link.script ?? ''}`;
    let hit = this.scripts.get(key);
    if (!hit) {
      hit = linkScript(k.root, buildDir, k.link);
      this.scripts.set(key, hit);
    }
    return hit;
  }

  /** Where each link that consumes the object at `buildPath` puts its sections. */
  place(buildDir: string, buildPath: string, elf: ElfFile): ObjectLinks {
    const out: ObjectLinks = { placed: [], unreadable: [] };
    for (const k of this.linksOf(buildDir)) {
      if (!k.link.inputs.includes(buildPath)) continue;
      const s = this.script(k, buildDir);
      if (!s.ok) {
        out.unreadable.push({ link: k.link.output, script: k.link.script ?? '', problem: s.problem });
        continue;
      }
      out.placed.push({
        link: k.link,
        scriptFile: s.file,
        hasSections: s.script.hasSections,
        placements: placeElfSections(s.script, buildPath, elf.sections, k.link.relocatable),
      });
    }
    return out;
  }
}
