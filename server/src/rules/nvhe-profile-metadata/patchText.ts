// The commit message of each fix form, for `git am`: kernel-style subject and a body that explains
// the failure. Checked by the kernel's checkpatch.pl --strict in the real-kernel test.
const SUBJECTS: Record<string, string> = {
  A: 'KVM: arm64: nvhe: Filter out profile-use flags for hyp code',
  B: 'KVM: arm64: nvhe: Remove .llvm.call-graph-profile before gen-hyprel',
  C: "KVM: arm64: nvhe: Turn off Kbuild's profile for hyp code",
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

const REMEDIES: Record<string, string> = {
  A: 'Filter every profile-use spelling clang accepts out of KBUILD_CFLAGS for the nVHE code, as is already done for ftrace, SCS and CFI flags.',
  B: 'Remove the section before gen-hyprel reads the object; objcopy drops its relocation section with it. The profile still guides the compiler.',
  C: "Kbuild adds the profile to every object's c_flags itself (scripts/Makefile.lib), after this directory's KBUILD_CFLAGS filter. Turn it off for the nVHE objects with the directory switch Kbuild reads.",
};

/** Subject and body of the patch for fix `form`; `object` is the file gen-hyprel reads, build-relative. */
export function patchText(form: string, object: string): { subject: string; body: string } {
  return { subject: SUBJECTS[form], body: `${failure(object)}\n\n${REMEDIES[form]}` };
}
