// Bounds in tests are checked in CPU time of this process, not wall time: a busy machine stretches
// the wall clock (CI at load 40 took 20x), not the work done.

/** CPU milliseconds (user + system) since `t0`, a `process.cpuUsage()` reading. */
export function cpuMsSince(t0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** CPU milliseconds spent by `work`, and what it returned. */
export function cpuTimed<T>(work: () => T): { value: T; ms: number } {
  const t0 = process.cpuUsage();
  const value = work();
  return { value, ms: cpuMsSince(t0) };
}
