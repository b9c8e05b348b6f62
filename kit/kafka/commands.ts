import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { HubError, UsageError } from '../../core/errors.ts';
import { tributaryHome } from '../paths.ts';
import { followFile, lastLinesOf } from '../process.ts';
import { clusterHandle, type KafkaClusterHandle, startKafkaCluster } from './cluster.ts';
import { nodeAlive, stopNode } from './node.ts';
import { brokersOf } from './ready.ts';
import { readClusterState, writeClusterState } from './state.ts';

/** The default data folder of `tributary kafka`: `<TRIBUTARY_HOME or .tributary>/kafka`. */
export function defaultKafkaDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(tributaryHome(env), 'kafka');
}

/** Default first port of `kafka up`: Kafka's usual 9092 (controllers follow the brokers). */
export const defaultKafkaBasePort = 9092;

export interface KafkaUpOptions {
  nodes?: 1 | 3;
  basePort?: number;
  dataDir?: string;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface KafkaUpResult {
  /** True when a running cluster was found and left as it was. */
  alreadyRunning: boolean;
  cluster: KafkaClusterHandle;
}

/**
 * Starts the local cluster unless it already runs (then returns it untouched). A stopped
 * cluster starts again with its data, ports and node count; asking for a different node count
 * or ports while it runs is an error (KIT_KAFKA_RUNNING).
 */
export async function kafkaUp(options: KafkaUpOptions = {}): Promise<KafkaUpResult> {
  const dataDir = resolve(options.dataDir ?? defaultKafkaDataDir(options.env));
  const previous = await readClusterState(dataDir);
  const nodes = options.nodes ?? (previous?.nodes.length === 3 ? 3 : 1);
  if (previous?.nodes.every((n) => nodeAlive(previous, n))) {
    const samePorts = options.basePort === undefined || previous.nodes[0]?.port === options.basePort;
    if (previous.nodes.length !== nodes || !samePorts) {
      throw new HubError(
        'KIT_KAFKA_RUNNING',
        `A ${previous.nodes.length}-node Kafka cluster already runs at ${brokersOf(previous).join(',')}`,
        { hint: 'stop it with `tributary kafka down` before starting one with other nodes or ports' },
      );
    }
    return { alreadyRunning: true, cluster: clusterHandle(previous) };
  }
  const samePortsAsBefore = previous && previous.nodes.length === nodes && options.basePort === undefined;
  const cluster = await startKafkaCluster({
    nodes,
    dataDir,
    ...(samePortsAsBefore
      ? { ports: previous.nodes.map((n) => ({ port: n.port, controllerPort: n.controllerPort })) }
      : { basePort: options.basePort ?? defaultKafkaBasePort }),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { alreadyRunning: false, cluster };
}

export interface KafkaDownResult {
  /** How each node ended: it was not running, stopped on SIGTERM, or needed SIGKILL. */
  nodes: Array<{ id: number; pid: number | null; result: 'not-running' | 'stopped' | 'killed' }>;
  purged: boolean;
}

/** Stops the local cluster (SIGTERM, SIGKILL after `graceMs`); `purge` also deletes its data. */
export async function kafkaDown(
  options: { dataDir?: string; purge?: boolean; graceMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<KafkaDownResult> {
  const dataDir = resolve(options.dataDir ?? defaultKafkaDataDir(options.env));
  const state = await readClusterState(dataDir);
  const nodes: KafkaDownResult['nodes'] = [];
  if (state) {
    const results = await Promise.all(state.nodes.map((n) => stopNode(state, n, options.graceMs)));
    state.nodes.forEach((n, i) => {
      nodes.push({ id: n.id, pid: n.pid, result: results[i] ?? 'not-running' });
      n.pid = null;
    });
    if (!options.purge) await writeClusterState(state);
  }
  if (options.purge) await rm(dataDir, { recursive: true, force: true });
  return { nodes, purged: options.purge === true };
}

export interface KafkaStatus {
  /** running: every node up; degraded: some; stopped: none (or never started). */
  state: 'running' | 'degraded' | 'stopped';
  dataDir: string;
  version?: string;
  clusterId?: string;
  brokers: string[];
  nodes: Array<{
    id: number;
    pid: number | null;
    alive: boolean;
    listening: boolean;
    port: number;
    controllerPort: number;
    logFile: string;
  }>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 1000 });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** Whether the local cluster runs, per node (pid alive, port accepting) and where it listens. */
export async function kafkaStatus(
  options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<KafkaStatus> {
  const dataDir = resolve(options.dataDir ?? defaultKafkaDataDir(options.env));
  const state = await readClusterState(dataDir);
  if (!state) return { state: 'stopped', dataDir, brokers: [], nodes: [] };
  const nodes = await Promise.all(
    state.nodes.map(async (n) => {
      const alive = nodeAlive(state, n);
      return {
        id: n.id,
        pid: alive ? n.pid : null,
        alive,
        listening: alive && (await listening(n.port)),
        port: n.port,
        controllerPort: n.controllerPort,
        logFile: n.logFile,
      };
    }),
  );
  const up = nodes.filter((n) => n.alive).length;
  return {
    state: up === 0 ? 'stopped' : up === nodes.length ? 'running' : 'degraded',
    dataDir,
    version: state.version,
    clusterId: state.clusterId,
    brokers: brokersOf(state),
    nodes,
  };
}

export interface KafkaLogsOptions {
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Node id (default 1). */
  node?: number;
  /** How many lines from the end (default 100). */
  lines?: number;
  /** Keep printing new lines until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  write: (text: string) => void;
}

/** Prints the end of a node's broker log, and follows it when asked. */
export async function kafkaLogs(options: KafkaLogsOptions): Promise<void> {
  const dataDir = resolve(options.dataDir ?? defaultKafkaDataDir(options.env));
  const state = await readClusterState(dataDir);
  if (!state) {
    throw new HubError('KIT_KAFKA_NOT_FOUND', `No local Kafka cluster was started in ${dataDir}`, {
      hint: 'start one with `tributary kafka up`',
    });
  }
  const id = options.node ?? 1;
  const node = state.nodes.find((n) => n.id === id);
  if (!node) {
    throw new UsageError(`There is no node ${id}; this cluster has nodes 1..${state.nodes.length}`);
  }
  const tail = await lastLinesOf(node.logFile, options.lines ?? 100);
  if (tail) options.write(`${tail}\n`);
  if (options.follow)
    await followFile(node.logFile, options.write, options.signal ?? new AbortController().signal);
}
