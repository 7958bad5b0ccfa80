// Cooperative scheduling for long loops on the server's single thread.

/** Lets queued I/O and requests run before the loop goes on. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
