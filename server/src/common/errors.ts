// One way to turn whatever was thrown into the text a message shows.

/** The message of an Error, or the thrown value as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
