import { readFileSync } from 'node:fs';

/**
 * Where the CPU went during a run, from /proc (Linux): the seconds the whole machine was busy,
 * and those of given processes (the broker), so a rate can be read against the cores it used.
 * Undefined where /proc cannot be read.
 */

const TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the whole machine since boot (all cores, idle and iowait excluded). */
function machineBusy(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of process `pid`. */
function processBusy(pid: number): number | undefined {
  try {
    const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(after[11]) + Number(after[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface CpuAccount {
  /** Cores the machine had busy on average over the run. */
  machineCores: number | undefined;
  /** CPU microseconds per event of the given processes together (e.g. the broker). */
  processUsPerEvent: number | undefined;
}

/** Runs `work`, which handles `events`, and accounts for the CPU around it. */
export async function accountCpu<T>(
  pids: number[],
  events: number,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuAccount }> {
  const sum = () => {
    let total = 0;
    for (const pid of pids) {
      const s = processBusy(pid);
      if (s === undefined) return undefined;
      total += s;
    }
    return pids.length > 0 ? total : undefined;
  };
  const machine0 = machineBusy();
  const procs0 = sum();
  const start = performance.now();
  const result = await work();
  const seconds = (performance.now() - start) / 1000;
  const machine1 = machineBusy();
  const procs1 = sum();
  return {
    result,
    cpu: {
      machineCores:
        machine0 === undefined || machine1 === undefined ? undefined : (machine1 - machine0) / seconds,
      processUsPerEvent:
        procs0 === undefined || procs1 === undefined ? undefined : ((procs1 - procs0) * 1e6) / events,
    },
  };
}
