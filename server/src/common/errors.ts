// One way to turn whatever was thrown into the text a message shows.

/** The message of an Error, or the thrown value as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whatever was thrown, as an Error (for a rejection or a callback that takes one). */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
