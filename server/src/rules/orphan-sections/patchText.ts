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

/** The commit message of the script fix: what it adds to which script, and why this way. */
export function scriptPatchText(
  prefix: string,
  sections: string[],
  scripts: string[],
  place: boolean,
): { subject: string; body: string } {
  const list = sections.join(', ');
  const subject = `${prefix}: ${place ? 'Place' : 'Discard'} ${list} in the linker script`;
  const made = SECTION_FLAGS.filter((f) => f.sections.some((s) => sections.includes(s.name))).map((f) => f.option);
  const body =
    `${made.length > 0 ? `With ${made.join(' or ').replace(/=$/, '=...')}, clang emits` : 'The objects of this link hold'} ` +
    `${list}, which ${scripts.join(', ')} does not place. The link passes ` +
    '--orphan-handling=$(CONFIG_LD_ORPHAN_WARN_LEVEL), so ld.lld reports each such input section as ' +
    'an orphan ("<object>:(<section>) is being placed in \'<section>\'"), an error with CONFIG_WERROR=y.\n\n' +
    (place
      ? `Place ${list} in an output section of its own, as arch/x86/kernel/vmlinux.lds.S does for ` +
        'Propeller (commit d5dc95836147): tools read it from the linked image, and nothing loads it.'
      : `Discard ${list}: nothing loads it and no tool reads it from this image.`);
  return { subject, body };
}
