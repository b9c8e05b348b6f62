import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KafkaNodeLayout } from './config.ts';

/** One node as recorded in cluster.json. `pid` is the last process started for it. */
export interface KafkaNodeState extends KafkaNodeLayout {
  pid: number | null;
}

/**
 * cluster.json in the data folder: what `up` started, so `status`, `down`, `logs` and a second
 * `up` (from any process) find the cluster again.
 */
export interface KafkaClusterState {
  version: string;
  clusterId: string;
  dataDir: string;
  libsDir: string;
  java: string;
  startedAt: string;
  nodes: KafkaNodeState[];
}

export function stateFile(dataDir: string): string {
  return join(dataDir, 'cluster.json');
}

/** Reads cluster.json; undefined when there is none (never started here). */
export async function readClusterState(dataDir: string): Promise<KafkaClusterState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dataDir), 'utf8')) as KafkaClusterState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes cluster.json atomically (write then rename), so a reader never sees half a file. */
export async function writeClusterState(state: KafkaClusterState): Promise<void> {
  const file = stateFile(state.dataDir);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, file);
}

/** The marker on a node's java command line, so liveness checks recognise our own process. */
export function nodeMarker(state: Pick<KafkaClusterState, 'clusterId'>, nodeId: number): string {
  return `-Dtributary.kafka.node=${state.clusterId}/${nodeId}`;
}
