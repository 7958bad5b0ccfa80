// LSP transport with bounds, for a client that is hostile or broken:
//  - BoundedStreamMessageReader: a header block longer than maxHeaderBytes, a Content-Length that is
//    not a number or larger than maxMessageBytes (e.g. `Content-Length: 4000000000`) is refused with
//    one clear line on stderr and the connection is closed, instead of buffering without limit (the
//    stock reader buffers until that many bytes arrived, or for ever when the header never ends).
//  - CoalescingMessageWriter: output waits in our own queue while more than `highWaterBytes` are in
//    flight (written but not yet taken by the client: a client that does not read stdout). While it
//    waits, a newer `textDocument/publishDiagnostics` for a URI replaces the queued one for the same
//    URI, and a newer `$/progress` report replaces the queued report for the same token; if the queue
//    still grows past `maxQueuedBytes` the connection is closed with a message on stderr. The stock
//    writer kept every message (800 MB of publishes).
//  - createBoundedConnection(): the server's connection with both, for `--stdio`; for `--node-ipc`
//    (how VS Code starts the server) the IPC reader and the coalescing writer over process.send; it
//    also answers requests that arrive after `shutdown` with InvalidRequest and exits when the input
//    ends (0 after shutdown, 1 otherwise), as the stock stdio connection does.
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  createConnection,
  ErrorCodes,
  IPCMessageReader,
  ProposedFeatures,
  type Connection,
  type DataCallback,
  type Disposable,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageserver/node';
import { asError, errorText } from './common/errors';

export interface TransportLimits {
  /** Largest message body accepted (Content-Length), bytes. Default 64 MiB. */
  maxMessageBytes: number;
  /** Largest header block (up to the blank line), bytes. Default 8 KiB. */
  maxHeaderBytes: number;
  /** Bytes handed to the output but not yet taken by the client before we queue. Default 1 MiB. */
  highWaterBytes: number;
  /** Bytes queued (after coalescing) before we give up on the client. Default 64 MiB. */
  maxQueuedBytes: number;
  /** Where the one-line explanations go (default: stderr). */
  log: (line: string) => void;
}

const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 8 * 1024,
  highWaterBytes: 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
  log: (line) => process.stderr.write(`kbuild-diagnostics: ${line}\n`),
};

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Reads `Content-Length`-framed JSON-RPC messages from a stream, within TransportLimits. */
export class BoundedStreamMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly limits: TransportLimits;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** -1 while reading headers, else the body length expected. */
  private bodyLength = -1;
  private stopped = false;
  private callback: DataCallback | null = null;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    limits: Partial<TransportLimits> = {},
  ) {
    super();
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...limits };
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (d: Buffer | string): void => this.onData(typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
    const onError = (e: Error): void => this.fireError(e);
    const onClose = (): void => this.fireClose();
    this.readable.on('data', onData);
    this.readable.on('error', onError);
    this.readable.on('end', onClose);
    this.readable.on('close', onClose);
    return {
      dispose: () => {
        this.readable.off('data', onData);
        this.readable.off('error', onError);
        this.readable.off('end', onClose);
        this.readable.off('close', onClose);
      },
    };
  }

  /** Refuses the input: one line on stderr, an error event, and the reader closes. */
  private refuse(why: string): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
    this.limits.log(`${why}; closing the connection`);
    this.fireError(new Error(why));
    // Stop reading (the data is dropped) and close: the server exits as when its input ends.
    const r = this.readable as NodeJS.ReadableStream & { destroy?: () => void };
    if (typeof r.pause === 'function') r.pause();
    this.fireClose();
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private onData(data: Buffer): void {
    if (this.stopped) return;
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.bodyLength < 0) {
        // Look for the end of the headers only within maxHeaderBytes (+3 for a split terminator).
        const head = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
        this.chunks = head.length ? [head] : [];
        const end = head.subarray(0, this.limits.maxHeaderBytes + 4).indexOf(CRLFCRLF);
        if (end < 0) {
          if (this.buffered > this.limits.maxHeaderBytes)
            this.refuse(
              `a message header longer than ${this.limits.maxHeaderBytes} bytes arrived (no blank line ends it)`,
            );
          return;
        }
        const headerText = this.take(end + 4)
          .subarray(0, end)
          .toString('ascii');
        let length: number | undefined;
        for (const line of headerText.split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon < 0) continue;
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          if (name === 'content-length') {
            if (!/^[0-9]{1,16}$/.test(value))
              return this.refuse(`Content-Length "${value.slice(0, 40)}" is not a byte count`);
            length = Number(value);
          } else if (name === 'content-type' && /charset=/i.test(value) && !/charset=["']?utf-?8/i.test(value)) {
            return this.refuse(`Content-Type "${value.slice(0, 80)}": only utf-8 is supported`);
          }
        }
        if (length === undefined) return this.refuse('a message header without Content-Length arrived');
        if (length > this.limits.maxMessageBytes)
          return this.refuse(
            `refusing a message of ${length} bytes (Content-Length), more than the ${this.limits.maxMessageBytes}-byte limit`,
          );
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) return;
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      let msg: Message;
      try {
        msg = JSON.parse(body.toString('utf8')) as Message;
      } catch (e) {
        this.fireError(new Error(`a message body is not JSON: ${errorText(e)}`));
        continue;
      }
      this.callback?.(msg);
      if (this.stopped) return;
    }
  }
}

/** Where a CoalescingMessageWriter puts messages: calls `done` once the transport took them. */
export type MessageSink = (msg: Message, encoded: Buffer | null, done: (error?: Error | null) => void) => void;

interface Queued {
  msg: Message;
  encoded: Buffer | null;
  bytes: number;
  key: string | null;
}

function encodeFrame(msg: Message): Buffer {
  const json = Buffer.from(JSON.stringify(msg), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${json.length}\r\n\r\n`, 'ascii'), json]);
}

/** The coalescing key of a message: one queued publish per URI, one queued progress report per token. */
function keyOf(msg: Message): string | null {
  const m = msg as { method?: unknown; params?: { uri?: unknown; token?: unknown; value?: { kind?: unknown } } };
  if (m.method === 'textDocument/publishDiagnostics' && typeof m.params?.uri === 'string')
    return `diag ${m.params.uri}`;
  if (
    m.method === '$/progress' &&
    m.params?.value?.kind === 'report' &&
    (typeof m.params.token === 'string' || typeof m.params.token === 'number')
  )
    return `progress ${String(m.params.token)}`;
  return null;
}

/**
 * Writes messages in order; while the client is not taking them, queues them with coalescing (see
 * the file comment). `encode` false hands message objects to the sink (IPC), sizes then estimated
 * from their JSON.
 */
export class CoalescingMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private readonly limits: TransportLimits;
  private inFlight = 0;
  private readonly queue: (Queued | null)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private readonly byKey = new Map<string, number>();
  private closed = false;
  /** Messages replaced by a newer one for the same key (for tests and logs). */
  coalesced = 0;

  constructor(
    private readonly sink: MessageSink,
    private readonly encode: boolean,
    limits: Partial<TransportLimits> = {},
  ) {
    super();
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...limits };
  }

  /** Bytes waiting in our queue (not yet handed to the transport). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  write(msg: Message): Promise<void> {
    if (this.closed) return Promise.resolve();
    let encoded: Buffer | null = null;
    let bytes: number;
    if (this.encode) {
      encoded = encodeFrame(msg);
      bytes = encoded.length;
    } else bytes = JSON.stringify(msg).length;
    const queueEmpty = this.head === this.queue.length;
    if (queueEmpty && this.inFlight < this.limits.highWaterBytes) {
      this.send({ msg, encoded, bytes, key: null });
      return Promise.resolve();
    }
    const key = keyOf(msg);
    if (key !== null) {
      const at = this.byKey.get(key);
      const old = at !== undefined ? this.queue[at] : null;
      if (at !== undefined && old) {
        // Replace in place: the newest publish for this URI, at the older one's place in the order.
        this.queuedBytes += bytes - old.bytes;
        this.queue[at] = { msg, encoded, bytes, key };
        this.coalesced++;
        return Promise.resolve();
      }
    }
    this.queue.push({ msg, encoded, bytes, key });
    if (key !== null) this.byKey.set(key, this.queue.length - 1);
    this.queuedBytes += bytes;
    if (this.queuedBytes > this.limits.maxQueuedBytes) {
      this.closed = true;
      const why = `the client has not read ${this.inFlight + this.queuedBytes} bytes of output (more than ${this.limits.maxQueuedBytes} queued after merging diagnostics)`;
      this.limits.log(`${why}; closing the connection`);
      this.queue.length = 0;
      this.head = 0;
      this.byKey.clear();
      this.queuedBytes = 0;
      this.fireError(new Error(why), msg, 1);
      this.fireClose();
    }
    return Promise.resolve();
  }

  private send(q: Queued): void {
    this.inFlight += q.bytes;
    let called = false;
    const done = (error?: Error | null): void => {
      if (called) return;
      called = true;
      this.inFlight -= q.bytes;
      if (error) this.fireError(error, q.msg, 1);
      this.flush();
    };
    try {
      this.sink(q.msg, q.encoded, done);
    } catch (e) {
      done(asError(e));
    }
  }

  private flush(): void {
    while (this.head < this.queue.length && this.inFlight < this.limits.highWaterBytes && !this.closed) {
      const q = this.queue[this.head];
      this.queue[this.head] = null;
      this.head++;
      if (!q) continue;
      if (q.key !== null) this.byKey.delete(q.key);
      this.queuedBytes -= q.bytes;
      this.send(q);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      // Compact, keeping the key index right.
      this.queue.splice(0, this.head);
      this.head = 0;
      this.byKey.clear();
      this.queue.forEach((q, i) => {
        if (q?.key) this.byKey.set(q.key, i);
      });
    }
  }

  end(): void {
    /* nothing buffered beyond the queue; the transport ends with the process */
  }
}

/** A sink writing framed bytes to a stream (stdout); `done` fires when the stream took them. */
function streamSink(writable: NodeJS.WritableStream): MessageSink {
  return (_msg, encoded, done) => {
    writable.write(encoded ?? Buffer.alloc(0), (err?: Error | null) => done(err ?? null));
  };
}

/** A sink sending message objects over Node's IPC channel (how VS Code starts the server). */
function ipcSink(proc: NodeJS.Process = process): MessageSink {
  return (msg, _encoded, done) => {
    if (!proc.send) return done(new Error('no IPC channel'));
    proc.send(msg, undefined, undefined, (err: Error | null) => done(err));
  };
}

export interface BoundedConnectionOptions {
  limits?: Partial<TransportLimits>;
  /** Default: from process.argv (`--stdio` or `--node-ipc`); anything else uses the stock connection. */
  transport?: 'stdio' | 'ipc';
}

/**
 * The language server's connection with bounded input and coalescing output. Drop-in for
 * `createConnection(ProposedFeatures.all)` in server.ts.
 */
export function createBoundedConnection(opts: BoundedConnectionOptions = {}): Connection {
  const transport =
    opts.transport ??
    (process.argv.includes('--stdio') ? 'stdio' : process.argv.includes('--node-ipc') ? 'ipc' : undefined);
  if (!transport) return createConnection(ProposedFeatures.all);
  const inner: MessageReader =
    transport === 'stdio' ? new BoundedStreamMessageReader(process.stdin, opts.limits) : new IPCMessageReader(process);
  const writer =
    transport === 'stdio'
      ? new CoalescingMessageWriter(streamSink(process.stdout), true, opts.limits)
      : new CoalescingMessageWriter(ipcSink(process), false, opts.limits);
  const { reader, shutdownSeen } = rejectingAfterShutdown(inner, writer);
  const connection = createConnection(ProposedFeatures.all, reader, writer);
  // The stock stdio connection exits when its input ends; with our own reader we do it here.
  reader.onClose(() => process.exit(shutdownSeen() ? 0 : 1));
  writer.onClose(() => process.exit(shutdownSeen() ? 0 : 1));
  return connection;
}

/**
 * Wraps a reader so that requests arriving after `shutdown` are answered with InvalidRequest
 * (LSP: "If a server receives requests after a shutdown request those requests should error with
 * InvalidRequest") and not delivered; `exit` and notifications still go through.
 */
function rejectingAfterShutdown(
  inner: MessageReader,
  writer: MessageWriter,
): { reader: MessageReader; shutdownSeen: () => boolean } {
  let shutdown = false;
  const reader: MessageReader = {
    onError: inner.onError,
    onClose: inner.onClose,
    onPartialMessage: inner.onPartialMessage,
    dispose: () => inner.dispose(),
    listen(callback: DataCallback): Disposable {
      return inner.listen((msg) => {
        const m = msg as { id?: unknown; method?: unknown };
        const isRequest = typeof m.method === 'string' && (typeof m.id === 'number' || typeof m.id === 'string');
        if (isRequest && shutdown) {
          void writer.write({
            jsonrpc: '2.0',
            id: m.id,
            error: {
              code: ErrorCodes.InvalidRequest,
              message: `${String(m.method)}: the server is shutting down (shutdown was requested)`,
            },
          } as Message);
          return;
        }
        if (isRequest && m.method === 'shutdown') shutdown = true;
        callback(msg);
      });
    },
  };
  return { reader, shutdownSeen: () => shutdown };
}
