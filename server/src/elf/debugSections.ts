// Which sections hold debug information: what the section explorer can hide.

/** .debug_*, .zdebug_*, DWARF-ish and their relocation sections. */
export function isDebugSection(name: string): boolean {
  const n = name.replace(/^\.rela?(?=\.)/, '');
  return /^\.(z?debug_|gnu\.debuglto_|stab|line$|debug$|gdb_index$|BTF)/.test(n);
}
