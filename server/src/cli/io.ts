// Where a command writes: injectable so tests can run commands in-process and read their output.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * A stream whose reader went away (`check . | head -1`) ends quietly, like other Unix tools: the
 * EPIPE is not an error to report, later writes to it are dropped, and the command still ends with
 * its own exit code. Any other write error is reported once on stderr.
 */
function guarded(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  let listening = false;
  return (text) => {
    if (closed) return;
    if (!listening) {
      listening = true;
      stream.on('error', (e: NodeJS.ErrnoException) => {
        closed = true;
        if (e.code !== 'EPIPE' && stream !== process.stderr)
          process.stderr.write(`kbuild-diagnostics: cannot write output: ${e.message}\n`);
      });
    }
    try {
      stream.write(text);
    } catch (e) {
      // A synchronous write (a file or a pipe on Linux) can throw instead of emitting 'error'.
      closed = true;
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
  };
}

export const processIo: CliIo = {
  out: guarded(process.stdout),
  err: guarded(process.stderr),
};
