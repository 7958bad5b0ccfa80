// LSP transport bounds (issue 13), against a real server process: this bundled file is also a tiny
// language server (KBD_TRANSPORT_SERVER=1) built on createBoundedConnection, so the tests drive the
// real reader and writer over real pipes:
//  - a client that does not read stdout while the server publishes 2 million diagnostics: the
//    server's memory stays bounded, and the client gets the newest publish per URI when it reads;
//  - `Content-Length: 4000000000`, an endless header, a non-numeric length: one stderr line, exit 1;
//  - requests after `shutdown` get InvalidRequest; `exit` exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, ProposedFeatures, type Message } from 'vscode-languageserver/node';
import {
  BoundedStreamMessageReader,
  CoalescingMessageWriter,
  createBoundedConnection,
  type MessageSink,
} from '../../server/src/transport';
import { PassThrough } from 'node:stream';

if (process.env.KBD_TRANSPORT_SERVER) {
  // KBD_STOCK=1: the stock connection, to measure what the bounds change (see RELIABILITY.md).
  const connection = process.env.KBD_STOCK
    ? createConnection(ProposedFeatures.all)
    : createBoundedConnection({
        transport: 'stdio',
        limits: { maxQueuedBytes: Number(process.env.KBD_MAX_QUEUED ?? 64 * 1024 * 1024) },
      });
  connection.onInitialize(() => ({ capabilities: {} }));
  connection.onRequest('test/flood', (p: { uris: number; versions: number; diagnostics: number }) => {
    // Distinct objects per publish, as a real server makes them (shared strings would hide the cost).
    for (let v = 0; v < p.versions; v++) {
      for (let u = 0; u < p.uris; u++) {
        const diagnostics = Array.from({ length: p.diagnostics }, (_, i) => ({
          range: { start: { line: i, character: 0 }, end: { line: i, character: v } },
          severity: 2 as const,
          source: 'kbuild',
          code: 'nvhe-profile-metadata',
          message: `version ${v} diagnostic ${i} of file ${u}`,
        }));
        void connection.sendDiagnostics({ uri: `file:///f${u}`, version: v, diagnostics });
      }
    }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
    process.stderr.write(`flood done rss=${rss}\n`);
    return 'done';
  });
  connection.onRequest('test/echo', (p: unknown) => p);
  connection.listen();
} else {
  interface Proc {
    p: ChildProcessWithoutNullStreams;
    send(msg: object): void;
    messages: Message[];
    stderr: () => string;
    exited: Promise<number | null>;
    waitFor(pred: (m: Message) => boolean, ms?: number): Promise<Message>;
  }
  function start(env: Record<string, string> = {}): Proc {
    const p = spawn(process.execPath, [__filename, '--stdio'], {
      env: { ...process.env, KBD_TRANSPORT_SERVER: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const messages: Message[] = [];
    let buf = Buffer.alloc(0);
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin.on('error', () => undefined); // EPIPE when the server has (rightly) stopped reading
    p.stdout.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const h = buf.indexOf('\r\n\r\n');
        if (h < 0) return;
        const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, h).toString())?.[1]);
        if (buf.length < h + 4 + len) return;
        messages.push(JSON.parse(buf.subarray(h + 4, h + 4 + len).toString('utf8')) as Message);
        buf = buf.subarray(h + 4 + len);
      }
    });
    const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
    const send = (msg: object): void => {
      const body = Buffer.from(JSON.stringify(msg));
      p.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    };
    const waitFor = async (pred: (m: Message) => boolean, ms = 30_000): Promise<Message> => {
      const t0 = Date.now();
      for (;;) {
        const m = messages.find(pred);
        if (m) return m;
        if (Date.now() - t0 > ms) throw new Error(`timed out; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { p, send, messages, stderr: () => err, exited, waitFor };
  }
  const initialize = async (s: Proc): Promise<void> => {
    s.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { processId: null, rootUri: null, capabilities: {} },
    });
    await s.waitFor((m) => (m as { id?: number }).id === 1);
    s.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
  };
  const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    Promise.race([
      p,
      new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)),
    ]);

  test(
    'a client that does not read stdout: 2 million diagnostics stay bounded and merge per URI',
    { timeout: 180_000 },
    async () => {
      const s = start();
      try {
        await initialize(s);
        // Stop reading the server's stdout: the pipe fills and the server must queue.
        s.p.stdout.pause();
        const URIS = 20;
        const VERSIONS = 1_000;
        // 20 URIs × 1,000 versions × 100 diagnostics: 2 million diagnostic objects, about 0.3 GB of
        // JSON and several times that as objects without merging.
        s.send({
          jsonrpc: '2.0',
          id: 2,
          method: 'test/flood',
          params: { uris: URIS, versions: VERSIONS, diagnostics: 100 },
        });
        const t0 = Date.now();
        while (!/flood done/.test(s.stderr()) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
        const rss = Number(/flood done rss=(\d+)/.exec(s.stderr())?.[1]);
        assert.ok(rss > 0, s.stderr());
        assert.ok(rss < 400 * 1024 * 1024, `server RSS ${(rss / 1e6).toFixed(0)} MB while the client did not read`);
        // Now read: the response arrives, and the last publish of every URI is the newest version.
        s.p.stdout.resume();
        await s.waitFor((m) => (m as { id?: number }).id === 2, 60_000);
        await new Promise((r) => setTimeout(r, 300));
        const pubs = s.messages.filter(
          (m) => (m as { method?: string }).method === 'textDocument/publishDiagnostics',
        ) as unknown as { params: { uri: string; version: number } }[];
        const last = new Map<string, number>();
        for (const m of pubs) last.set(m.params.uri, m.params.version);
        assert.equal(last.size, URIS);
        for (const v of last.values()) assert.equal(v, VERSIONS - 1);
        assert.ok(
          pubs.length < (URIS * VERSIONS) / 10,
          `${pubs.length} publishes reached the client (merged from ${URIS * VERSIONS})`,
        );
        console.log(
          `transport: server RSS ${(rss / 1e6).toFixed(0)} MB with the client not reading; ${pubs.length} of ${URIS * VERSIONS} publishes sent after merging`,
        );
      } finally {
        s.p.kill();
      }
    },
  );

  for (const [name, bytes, expect] of [
    [
      'Content-Length: 4000000000',
      Buffer.concat([Buffer.from('Content-Length: 4000000000\r\n\r\n'), Buffer.alloc(1024 * 1024, 0x7b)]),
      /refusing a message of 4000000000 bytes/,
    ],
    [
      'a header that never ends (1 MB without a blank line)',
      Buffer.alloc(1024 * 1024, 0x41),
      /header longer than 8192 bytes/,
    ],
    ['Content-Length: abc', Buffer.from('Content-Length: abc\r\n\r\n{}'), /is not a byte count/],
  ] as const) {
    test(`${name}: one clear stderr line, the server exits 1 without buffering`, { timeout: 60_000 }, async () => {
      const s = start();
      try {
        await initialize(s);
        s.p.stdin.write(bytes);
        const code = await withTimeout(s.exited, 20_000, name);
        assert.equal(code, 1);
        assert.match(s.stderr(), expect);
        assert.match(s.stderr(), /closing the connection/);
      } finally {
        s.p.kill();
      }
    });
  }

  test('requests after shutdown get InvalidRequest; exit then exits 0', { timeout: 60_000 }, async () => {
    const s = start();
    try {
      await initialize(s);
      s.send({ jsonrpc: '2.0', id: 5, method: 'test/echo', params: { a: 1 } });
      const echo = (await s.waitFor((m) => (m as { id?: number }).id === 5)) as { result?: unknown };
      assert.deepEqual(echo.result, { a: 1 });
      s.send({ jsonrpc: '2.0', id: 6, method: 'shutdown' });
      await s.waitFor((m) => (m as { id?: number }).id === 6);
      s.send({ jsonrpc: '2.0', id: 7, method: 'test/echo', params: { a: 2 } });
      s.send({ jsonrpc: '2.0', id: 8, method: 'textDocument/hover', params: {} });
      const r7 = (await s.waitFor((m) => (m as { id?: number }).id === 7)) as {
        error?: { code: number; message: string };
      };
      const r8 = (await s.waitFor((m) => (m as { id?: number }).id === 8)) as { error?: { code: number } };
      assert.equal(r7.error?.code, -32600);
      assert.match(r7.error?.message ?? '', /shutting down/);
      assert.equal(r8.error?.code, -32600);
      s.send({ jsonrpc: '2.0', method: 'exit' });
      assert.equal(await withTimeout(s.exited, 20_000, 'exit'), 0);
    } finally {
      s.p.kill();
    }
  });

  test('input that ends without shutdown: exit 1 (as the stock stdio connection)', { timeout: 60_000 }, async () => {
    const s = start();
    try {
      await initialize(s);
      s.p.stdin.end();
      assert.equal(await withTimeout(s.exited, 20_000, 'end of input'), 1);
    } finally {
      s.p.kill();
    }
  });

  test('CoalescingMessageWriter: order kept, responses never merged, overflow closes with a message', async () => {
    const pending: (() => void)[] = [];
    const seen: Message[] = [];
    const sink: MessageSink = (msg, _enc, done) => {
      seen.push(msg);
      pending.push(() => done());
    };
    const logs: string[] = [];
    const w = new CoalescingMessageWriter(sink, true, {
      highWaterBytes: 1,
      maxQueuedBytes: 10_000_000,
      log: (l) => logs.push(l),
    });
    const pub = (uri: string, v: number): Message =>
      ({
        jsonrpc: '2.0',
        method: 'textDocument/publishDiagnostics',
        params: { uri, version: v, diagnostics: [] },
      }) as Message;
    await w.write(pub('a', 0)); // sent at once, then the sink holds it
    for (let v = 1; v <= 1000; v++) {
      await w.write(pub('a', v));
      await w.write(pub('b', v));
      if (v === 500) await w.write({ jsonrpc: '2.0', id: 1, result: 'r1' } as Message);
    }
    assert.equal(seen.length, 1);
    assert.equal(w.coalesced, 2 * 999);
    while (pending.length) pending.shift()?.();
    const order = seen.map((m) =>
      (m as { id?: number }).id !== undefined
        ? 'resp'
        : `${(m as unknown as { params: { uri: string; version: number } }).params.uri}${(m as unknown as { params: { version: number } }).params.version}`,
    );
    assert.deepEqual(order, ['a0', 'a1000', 'b1000', 'resp']);
    // Overflow: a queue that cannot merge (responses) past the cap closes the writer.
    let closed = false;
    const w2 = new CoalescingMessageWriter(() => undefined, true, {
      highWaterBytes: 1,
      maxQueuedBytes: 10_000,
      log: (l) => logs.push(l),
    });
    w2.onClose(() => (closed = true));
    for (let i = 0; i < 1000 && !closed; i++)
      await w2.write({ jsonrpc: '2.0', id: i, result: 'x'.repeat(100) } as Message);
    assert.ok(closed);
    assert.match(logs.join('\n'), /has not read .* bytes of output/);
  });

  test('BoundedStreamMessageReader: messages split at every byte boundary are read whole', async () => {
    const input = new PassThrough();
    const r = new BoundedStreamMessageReader(input, { log: () => undefined });
    const got: Message[] = [];
    r.listen((m) => got.push(m));
    const frames: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'm', params: { s: 'é'.repeat(i) } }));
      frames.push(
        Buffer.from(
          `Content-Length: ${body.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n`,
        ),
        body,
      );
    }
    const all = Buffer.concat(frames);
    for (let i = 0; i < all.length; i += 7) input.write(all.subarray(i, i + 7));
    await new Promise((res) => setImmediate(res));
    assert.equal(got.length, 50);
    assert.deepEqual((got[49] as unknown as { params: { s: string } }).params.s, 'é'.repeat(49));
  });
}
