// Whole-tree `check` at the root of Debian's linux-source-6.12, walk included, side by side in one run
// with `find` and with `find` of the make files piped into `cat`; and the language server's workspace
// scan of the same tree (initialized → the scan's progress ends), with the longest time the server's
// event loop was held during the scan, seen from outside (the longest round trip of back-to-back cheap
// requests sent during the scan) and, for the walk alone in this process, by monitorEventLoopDelay.
// Interleaved runs, medians. Writes docs/BENCHMARKS-check.md with --write.
//   npm run build && node out/bench/check.bench.js [--runs N] [--write]
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { kernelTree, root } from '../test/helpers/kernelTree';
import { findMakeFiles } from '../server/src/kbuild/findMakefiles';
import { mayApply } from '../server/src/analysis';
import { RULES } from '../server/src/rules/registry';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const tree = kernelTree('6.12');
if (!('path' in tree)) {
  console.error(`check.bench: ${tree.missing}`);
  process.exit(2);
}
const cwd = tree.path;
const cli = join(root, 'server', 'out', 'cli.js');
// The names the walk reads (kbuild/findMakefiles isMakeFileName); find looks everywhere (it skips
// nothing the walk skips), so the pipeline does at least the walk's work.
const makeNames = `\\( -name Makefile -o -name Kbuild -o -name GNUmakefile -o -name makefile -o -name '*.mk' -o -name 'Makefile.*' -o -name 'Kbuild.*' \\)`;
const cmds: [string, string, string[]][] = [
  ['find . -type f', 'sh', ['-c', 'find . -type f > /dev/null']],
  [
    'find . -type f (make files) -print0 | xargs -0 cat',
    'sh',
    ['-c', `find . -type f ${makeNames} -print0 | xargs -0 cat > /dev/null`],
  ],
  ['node server/out/cli.js check .', process.execPath, [cli, 'check', '.']],
  ['node -e 0 (Node start-up alone)', process.execPath, ['-e', '0']],
];

interface ScanRun {
  ms: number;
  maxProbeMs: number;
  probes: number;
  reports: number;
}

/** The real server over stdio on the tree as a workspace: initialized → the scan's progress `end`. */
function serverScan(): Promise<ScanRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(root, 'server', 'out', 'server.js'), '--stdio'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let buf = Buffer.alloc(0);
    let nextId = 1;
    const pending = new Map<number, (r: unknown) => void>();
    const write = (m: unknown) => {
      const body = Buffer.from(JSON.stringify(m));
      proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
      proc.stdin.write(body);
    };
    const request = (method: string, params: unknown) =>
      new Promise<unknown>((res) => {
        const id = nextId++;
        pending.set(id, res);
        write({ jsonrpc: '2.0', id, method, params });
      });
    let t0 = 0;
    let scanning = false;
    let maxProbeMs = 0;
    let probes = 0;
    let reports = 0;
    const probe = async () => {
      while (scanning) {
        const p0 = performance.now();
        await request('textDocument/hover', {
          textDocument: { uri: 'file:///nonexistent/Makefile' },
          position: { line: 0, character: 0 },
        });
        if (scanning) {
          maxProbeMs = Math.max(maxProbeMs, performance.now() - p0);
          probes++;
        }
      }
    };
    proc.stdout.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const h = buf.indexOf('\r\n\r\n');
        if (h < 0) return;
        const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, h).toString())?.[1]);
        if (buf.length < h + 4 + len) return;
        const msg = JSON.parse(buf.subarray(h + 4, h + 4 + len).toString()) as {
          id?: number;
          method?: string;
          params?: { value?: { kind?: string } };
          result?: unknown;
        };
        buf = buf.subarray(h + 4 + len);
        if (msg.method !== undefined && msg.id !== undefined) write({ jsonrpc: '2.0', id: msg.id, result: null });
        else if (msg.method === '$/progress') {
          const kind = msg.params?.value?.kind;
          if (kind === 'begin' && !scanning) {
            scanning = true;
            void probe();
          } else if (kind === 'report') reports++;
          else if (kind === 'end') {
            const ms = performance.now() - t0;
            scanning = false;
            void request('shutdown', null).then(() => {
              write({ jsonrpc: '2.0', method: 'exit' });
              resolve({ ms, maxProbeMs, probes, reports });
            });
          }
        } else if (msg.id !== undefined) {
          pending.get(msg.id)?.(msg.result);
          pending.delete(msg.id);
        }
      }
    });
    proc.on('error', reject);
    const uri = pathToFileURL(cwd).toString();
    void request('initialize', {
      processId: process.pid,
      rootUri: uri,
      workspaceFolders: [{ uri, name: 'linux' }],
      capabilities: { window: { workDoneProgress: true } },
    }).then(() => {
      t0 = performance.now();
      write({ jsonrpc: '2.0', method: 'initialized', params: {} });
    });
  });
}

/** The walk alone, in this process, as the server calls it: its time and the event loop's longest delay. */
async function walkInProcess(): Promise<{
  ms: number;
  maxDelayMs: number;
  maxSliceMs: number;
  maxSliceCpuMs: number;
  files: number;
}> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let maxSliceMs = 0;
  // CPU time (user + system) of the longest slice: wall time minus the time the process waited for a core.
  let maxSliceCpuMs = 0;
  let cpu = process.cpuUsage();
  const onSlice = (ms: number) => {
    const d = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    maxSliceMs = Math.max(maxSliceMs, ms);
    maxSliceCpuMs = Math.max(maxSliceCpuMs, Math.min(ms, (d.user + d.system) / 1000));
  };
  const t0 = performance.now();
  const r = await findMakeFiles([cwd], (text) => mayApply(RULES, text), { onSlice });
  const ms = performance.now() - t0;
  h.disable();
  return { ms, maxDelayMs: h.max / 1e6, maxSliceMs, maxSliceCpuMs, files: r.files.length };
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times: number[][] = cmds.map(() => []);
const scans: ScanRun[] = [];
const walks: Awaited<ReturnType<typeof walkInProcess>>[] = [];
let checkSummary = '';
void (async () => {
  for (let i = 0; i < runs; i++) {
    cmds.forEach(([label, cmd, args], k) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { cwd, maxBuffer: 256 << 20, encoding: 'utf8' });
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`${label}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
      if (label.includes('check'))
        checkSummary = `exit 0, ${r.stdout.split('\n').filter((l) => / (error|warning): /.test(l)).length} errors or warnings, ${r.stdout.split('\n').filter((l) => /: note: /.test(l)).length} note lines`;
    });
    scans.push(await serverScan());
    walks.push(await walkInProcess());
  }
  const m = times.map(med);
  const pipeline = m[1];
  const check = m[2];
  const scanMs = med(scans.map((s) => s.ms));
  const maxProbe = Math.max(...scans.map((s) => s.maxProbeMs));
  const maxDelay = Math.max(...walks.map((w) => w.maxDelayMs));
  const maxSlice = Math.max(...walks.map((w) => w.maxSliceMs));
  const maxSliceCpu = Math.max(...walks.map((w) => w.maxSliceCpuMs));
  const md = [
    '# Whole-tree check benchmark',
    '',
    `Generated by \`node out/bench/check.bench.js\` (bench/check.bench.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores shared with other work (load average ${loadavg()[0].toFixed(1)} at the end of the run).`,
    `Input: the root of Debian's linux-source-6.12 (\`cwd\` for every command); ${runs} interleaved runs of every row, median wall time. \`check .\` walks the tree itself (${checkSummary}).`,
    '',
    '| command | ms | vs find+cat |',
    '|---|---:|---:|',
    ...cmds.map(([label], k) => `| \`${label}\` | ${m[k].toFixed(1)} | ${(m[k] / pipeline).toFixed(2)}x |`),
    `| language server: workspace scan (initialized → progress end), real server over stdio | ${scanMs.toFixed(1)} | ${(scanMs / pipeline).toFixed(2)}x |`,
    '',
    `Runs (ms): check ${times[2].map((t) => t.toFixed(0)).join(', ')}; find+cat ${times[1].map((t) => t.toFixed(0)).join(', ')}; server scan ${scans.map((s) => s.ms.toFixed(0)).join(', ')}.`,
    '',
    `Event loop during the scan: the longest round trip of back-to-back \`hover\` requests sent to the server while it scanned was ${maxProbe.toFixed(1)} ms (${scans.reduce((n, s) => n + s.probes, 0)} probes over ${runs} scans; ${scans[0].reports} progress reports per scan). The walk alone in this process: ${med(walks.map((w) => w.ms)).toFixed(1)} ms median, ${walks[0].files} candidates, longest synchronous slice ${maxSlice.toFixed(1)} ms of wall time (the most CPU time any slice used: ${maxSliceCpu.toFixed(1)} ms), longest event-loop delay (monitorEventLoopDelay) ${maxDelay.toFixed(1)} ms.`,
    '',
    `Targets: \`check .\` within 5x the find+cat pipeline — this run ${(check / pipeline).toFixed(2)}x, ${check <= 5 * pipeline ? 'met' : 'NOT met'}; the server's scan under 1.5 s — ${scanMs.toFixed(0)} ms, ${scanMs < 1500 ? 'met' : 'NOT met'}; the event loop never held more than about 50 ms — ${maxProbe.toFixed(1)} ms seen from outside, ${maxProbe <= 50 ? 'met' : 'NOT met'} (in this process the walk's longest slice was ${maxSlice.toFixed(1)} ms of wall time and at most ${maxSliceCpu.toFixed(1)} ms of CPU time: a slice's wall time beyond its CPU time is the process waiting for one of the shared cores or for the disk).`,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (process.argv.includes('--write')) writeFileSync(join(root, 'docs', 'BENCHMARKS-check.md'), md);
})().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
