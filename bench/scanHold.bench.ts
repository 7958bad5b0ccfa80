// How long the server's workspace scan holds the event loop at a time (issue 19: "never more than
// about 50 ms"), on the root of Debian's linux-source-6.12: the walk exactly as the server runs it
// (kbuild/findMakefiles with the rules' prefilter, in this process), once per slice length, runs
// interleaved. Each slice (the synchronous stretch between two yields) is timed in wall time and in
// CPU time (process.cpuUsage): wall time beyond CPU time is the process waiting for a core. Beside it
// in the same run, an event loop doing nothing (a 1 ms timer, again and again, for as long): how late
// it fires is what the machine's scheduler alone adds to any hold. Run it idle and
// with a kernel build beside it (`make -j2` of the 6.1 tree); the header says which (a `make -C` of a
// tree in $KBD_CACHE running before each scan) and the load average.
//   npm run build && node out/bench/scanHold.bench.js [--runs N] [--slices 10,5,2] [--json FILE]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { kernelTree } from '../test/helpers/kernelTree';
import { findMakeFiles } from '../server/src/kbuild/findMakefiles';
import { mayApply } from '../server/src/analysis';
import { RULES } from '../server/src/rules/registry';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('--runs') ?? 5);
const sliceLengths = (arg('--slices') ?? '10,5,2').split(',').map(Number);
const tree = kernelTree('6.12');
if (!('path' in tree)) {
  console.error(`scanHold.bench: ${tree.missing}`);
  process.exit(2);
}
const cwd = tree.path;

interface Slice {
  wall: number;
  cpu: number;
}

async function scan(sliceMs: number): Promise<{ ms: number; slices: Slice[]; files: number }> {
  const slices: Slice[] = [];
  let cpu = process.cpuUsage();
  const onSlice = (ms: number) => {
    const d = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    slices.push({ wall: ms, cpu: Math.min(ms, (d.user + d.system) / 1000) });
  };
  const t0 = performance.now();
  const r = await findMakeFiles([cwd], (text) => mayApply(RULES, text), { onSlice, sliceMs });
  return { ms: performance.now() - t0, slices, files: r.files.length };
}

/**
 * An event loop with nothing to do, as the server is between requests: a 1 ms timer, again and again,
 * for `ms`; each value is how late it fired. What the machine's scheduler alone adds to any hold.
 */
async function idleLoop(ms: number): Promise<number[]> {
  const lags: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 1));
    lags.push(Math.max(0, performance.now() - t - 1));
  }
  return lags;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const over = (xs: number[], limit: number): number => xs.filter((x) => x > limit).length;
const max = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), -Infinity);

/** A `make` in this user's kernel cache (KBD_CACHE) is running: the build beside the scan. */
function makeRunning(): boolean {
  const cache = process.env.KBD_CACHE ?? '';
  if (!cache) return false;
  try {
    execFileSync('pgrep', ['-f', `^make -C ${cache}/`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

void (async () => {
  const results = new Map<number, { ms: number[]; slices: Slice[]; files: number }>();
  const idle: number[] = [];
  const makeSeen: boolean[] = [];
  const load: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const s of sliceLengths) {
      makeSeen.push(makeRunning());
      load.push(loadavg()[0]);
      const r = await scan(s);
      const acc = results.get(s) ?? { ms: [], slices: [], files: r.files };
      acc.ms.push(r.ms);
      for (const x of r.slices) acc.slices.push(x);
      results.set(s, acc);
      for (const g of await idleLoop(Math.min(r.ms, 3000))) idle.push(g);
    }
  }
  const condition = makeSeen.every(Boolean)
    ? 'with a kernel build (make -j2 of a 6.1 tree in KBD_CACHE) running beside it (seen before every scan)'
    : makeSeen.some(Boolean)
      ? `with a kernel build beside some scans only (make seen before ${makeSeen.filter(Boolean).length} of ${makeSeen.length})`
      : 'without a kernel build of this user beside it';
  const lines = [
    `Run on ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores, ${condition}; load average ${-max(load.map((x) => -x)).toFixed(1)}–${max(load).toFixed(1)} during the run. Tree: ${cwd}; ${runs} interleaved runs per slice length.`,
    '',
    '| slice length (sliceMs) | scan ms (median) | slices | hold p50 ms | p99 ms | max ms | holds over 50 ms | max CPU ms of a slice |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [s, r] of results) {
    const wall = r.slices.map((x) => x.wall);
    lines.push(
      `| ${s} | ${pct(r.ms, 50).toFixed(0)} | ${r.slices.length} | ${pct(wall, 50).toFixed(1)} | ${pct(wall, 99).toFixed(1)} | ${max(wall).toFixed(1)} | ${over(wall, 50)} | ${max(r.slices.map((x) => x.cpu)).toFixed(1)} |`,
    );
  }
  lines.push(
    `| an idle event loop: how late a 1 ms timer fires, same run | — | ${idle.length} | ${pct(idle, 50).toFixed(2)} | ${pct(idle, 99).toFixed(1)} | ${max(idle).toFixed(1)} | ${over(idle, 50)} | — |`,
  );
  const files = [...results.values()][0]?.files ?? 0;
  lines.push('', `Every scan found ${files} candidate make files.`);
  const out = lines.join('\n');
  console.log(out);
  const json = arg('--json');
  if (json)
    writeFileSync(
      json,
      JSON.stringify({ condition, load, results: [...results].map(([s, r]) => ({ s, ...r })), idle }, null, 1),
    );
})();
