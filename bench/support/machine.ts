import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a run happened on, for RESULTS.md. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  java: string;
  platform: string;
  /** 1-minute load average when the figure was taken: the machine may be shared. */
  load1: number;
}

/** The `java -version` first line, or `not found`. */
export function javaVersion(): string {
  const answer = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (answer.error) return 'not found';
  const first = `${answer.stderr}${answer.stdout}`.split('\n').find((l) => l.trim()) ?? '';
  return first.trim();
}

/** Describes this machine now. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    java: javaVersion(),
    platform: `${process.platform} ${process.arch}`,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
