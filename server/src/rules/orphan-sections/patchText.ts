// The commit message of the fix, for `git am`: a kernel-style subject and a body that explains the failure.
import { SECTION_FLAGS } from './sectionFlags';

export function patchText(prefix: string, patterns: string[]): { subject: string; body: string } {
  const flags = patterns.length > 0 ? patterns.join(' ') : 'section-making flags';
  const sections = [
    ...new Set(
      SECTION_FLAGS.filter((f) => patterns.some((p) => p.startsWith(f.option))).flatMap((f) =>
        f.sections.map((s) => s.name),
      ),
    ),
  ];
  const subject = `${prefix}: Remove ${patterns.length === 1 ? patterns[0].replace(/=%$/, '') : 'section flags'} from the objects it links`;
  const body =
    `With ${flags} (for example from KCFLAGS), clang emits ${sections.length > 0 ? sections.join(', ') : 'sections'} ` +
    'into objects of this directory. Its linker script does not place them, and the link passes ' +
    '--orphan-handling=$(CONFIG_LD_ORPHAN_WARN_LEVEL), so ld.lld reports each one as an orphan ' +
    '("<object>:(<section>) is being placed in \'<section>\'"), an error with CONFIG_WERROR=y.\n\n' +
    "Remove the flag for these objects, with the directory's own remove list.";
  return { subject, body };
}
