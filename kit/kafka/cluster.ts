import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HubError, UsageError } from '../../core/errors.ts';
import { requireJava } from '../java.ts';
import { assertPortsFree, freePorts } from '../ports.ts';
import { waitForExit } from '../process.ts';
import { newClusterId, nodeLayout, portsFromBase } from './config.ts';
import { ensureKafkaJars } from './jars.ts';
import {
  brokerJavaOptions,
  formatNode,
  nodeAlive,
  nodeFormatted,
  spawnNode,
  stopNode,
  writeNodeConfig,
} from './node.ts';
import { brokersOf, waitForInSync, waitForKafkaReady } from './ready.ts';
import { type KafkaClusterState, type KafkaNodeState, readClusterState, writeClusterState } from './state.ts';
import { kafkaVersion } from './version.ts';
import { startClusterWatchdog, stopClusterWatchdog } from './watchdog.ts';

export interface StartKafkaClusterOptions {
  /** 1 (default) or 3 combined broker+controller nodes. */
  nodes?: 1 | 3;
  /** Folder for config, data, logs and cluster.json. */
  dataDir: string;
  /** First port (see portsFromBase); omitted: free ports chosen by the OS. */
  basePort?: number;
  /** Explicit ports per node; wins over basePort. */
  ports?: Array<{ port: number; controllerPort: number }>;
  /** Reuse this cluster id (data formatted before keeps working). */
  clusterId?: string;
  version?: string;
  /** Jar cache root (default TRIBUTARY_CACHE or .tributary/cache). */
  cacheDir?: string;
  /** Broker JVM options (default: brokerJavaOptions(), small heap, quick start). */
  javaOptions?: string[];
  /** Extra server.properties entries for every node. */
  extraProperties?: Record<string, string | number | boolean>;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /**
   * Tie the cluster to this process: when it dies without stopping the cluster, a watchdog
   * kills the brokers (tests use their own pid, so a killed run leaves no JVMs behind).
   */
  ownerPid?: number;
  /** With ownerPid: the watchdog also deletes dataDir. */
  purgeOnOwnerExit?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface KafkaNodeStatus {
  id: number;
  pid: number | null;
  alive: boolean;
  port: number;
  controllerPort: number;
  logFile: string;
}

/** A running local cluster. `stop()` is idempotent; `[Symbol.asyncDispose]` stops it too. */
export interface KafkaClusterHandle {
  brokers: string[];
  clusterId: string;
  version: string;
  dataDir: string;
  /** Live view of the nodes (pids change on restart). */
  readonly nodes: KafkaNodeStatus[];
  stop(): Promise<void>;
  /** Sends `signal` to one node and waits until it is gone (SIGKILL: a crash, SIGTERM: clean). */
  kill(nodeId: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again with its data; waits until it is registered and its replicas are in sync. */
  restart(nodeId: number): Promise<void>;
  status(): KafkaNodeStatus[];
  /** Id of the active KRaft controller as the live nodes record it; undefined when unknown. */
  activeControllerId(): Promise<number | undefined>;
  [Symbol.asyncDispose](): Promise<void>;
}

function nodeStatus(state: KafkaClusterState, node: KafkaNodeState): KafkaNodeStatus {
  return {
    id: node.id,
    pid: node.pid,
    alive: nodeAlive(state, node),
    port: node.port,
    controllerPort: node.controllerPort,
    logFile: node.logFile,
  };
}

async function choosePorts(options: StartKafkaClusterOptions, count: number) {
  if (options.ports) {
    if (options.ports.length !== count) throw new UsageError(`ports must list ${count} nodes`);
    return options.ports;
  }
  if (options.basePort !== undefined) return portsFromBase(options.basePort, count);
  const free = await freePorts(count * 2);
  return Array.from({ length: count }, (_, i) => ({ port: free[i]!, controllerPort: free[count + i]! }));
}

/**
 * Starts a local Kafka KRaft cluster from the Apache jars (fetched once into the cache) and
 * waits until it serves clients. Nodes already running from an earlier start in the same
 * dataDir are kept. Throws KIT_JAVA_*, KIT_MAVEN_MISSING, KIT_FETCH_FAILED, KIT_PORT_TAKEN,
 * KIT_KAFKA_EXITED or KIT_KAFKA_NOT_READY.
 */
export async function startKafkaCluster(options: StartKafkaClusterOptions): Promise<KafkaClusterHandle> {
  const count = options.nodes ?? 1;
  if (count !== 1 && count !== 3) throw new UsageError(`nodes must be 1 or 3, not ${count}`);
  const dataDir = resolve(options.dataDir);
  const version = options.version ?? kafkaVersion;
  const java = await requireJava(options.env);
  const libsDir = await ensureKafkaJars({
    version,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  await mkdir(dataDir, { recursive: true });
  const autoPorts = !options.ports && options.basePort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNodes(options, { count, dataDir, version, java: java.path, libsDir });
    } catch (err) {
      // Free ports are free when chosen, not reserved: if another process took one before a
      // broker listened, start again on others (the nodes were stopped; their data is kept).
      const taken = err instanceof HubError && err.code === 'KIT_KAFKA_EXITED' && err.where.portTaken;
      if (!autoPorts || !taken || attempt >= 3) throw err;
      options.onProgress?.(
        `a chosen port was taken before the broker listened; starting again on other ports`,
      );
    }
  }
}

interface StartBase {
  count: number;
  dataDir: string;
  version: string;
  java: string;
  libsDir: string;
}

async function startNodes(
  options: StartKafkaClusterOptions,
  { count, dataDir, version, java, libsDir }: StartBase,
): Promise<KafkaClusterHandle> {
  const previous = await readClusterState(dataDir);
  const ports = await choosePorts(options, count);
  const state: KafkaClusterState = {
    version,
    clusterId: options.clusterId ?? previous?.clusterId ?? newClusterId(),
    dataDir,
    libsDir,
    java,
    startedAt: new Date().toISOString(),
    nodes: ports.map((p, i) => {
      const id = i + 1;
      const layout = nodeLayout(dataDir, id, p.port, p.controllerPort);
      const before = previous?.nodes.find((n) => n.id === id && n.port === p.port);
      return { ...layout, pid: before?.pid ?? null };
    }),
  };
  assertCompatible(previous, state);
  const toStart = state.nodes.filter((n) => !nodeAlive(state, n));
  await assertPortsFree(
    toStart.flatMap((n) => [
      { port: n.port, role: `Kafka node ${n.id} client port` },
      { port: n.controllerPort, role: `Kafka node ${n.id} controller port` },
    ]),
  );
  for (const node of state.nodes) await writeNodeConfig(node, state.nodes, options.extraProperties);
  if (toStart.length > 0) {
    options.onProgress?.(
      `starting Kafka ${version} (${count} node${count > 1 ? 's' : ''}) in ${dataDir} ...`,
    );
  }
  await Promise.all(toStart.map((node) => formatNode(state, node)));
  const javaOptions = options.javaOptions ?? brokerJavaOptions(options.env);
  for (const node of toStart) node.pid = await spawnNode(state, node, javaOptions);
  // Record pids before waiting, so `down` can stop a cluster whose start was interrupted.
  await writeClusterState(state);
  const watchdog =
    options.ownerPid === undefined
      ? undefined
      : startClusterWatchdog({
          ownerPid: options.ownerPid,
          dataDir,
          purge: options.purgeOnOwnerExit === true,
        });
  try {
    await waitForKafkaReady(state, {
      ...(options.readyTimeoutMs ? { timeoutMs: options.readyTimeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    await Promise.all(state.nodes.map((n) => stopNode(state, n, 10_000)));
    stopClusterWatchdog(watchdog);
    throw err;
  }
  return clusterHandle(state, javaOptions, watchdog);
}

/** Refuses to start over a different cluster that still runs, or over data of another shape. */
function assertCompatible(previous: KafkaClusterState | undefined, next: KafkaClusterState): void {
  if (!previous) return;
  const live = previous.nodes.filter((n) => nodeAlive(previous, n));
  const same = (n: KafkaNodeState) =>
    next.nodes.some((m) => m.id === n.id && m.port === n.port && m.controllerPort === n.controllerPort);
  if (live.length > 0 && (previous.clusterId !== next.clusterId || !live.every(same))) {
    throw new HubError(
      'KIT_KAFKA_RUNNING',
      `A different Kafka cluster already runs from ${previous.dataDir} (brokers ${brokersOf(previous).join(',')})`,
      { hint: 'stop it first with `tributary kafka down`, or use another data folder (TRIBUTARY_HOME)' },
    );
  }
  if (previous.nodes.length !== next.nodes.length && previous.nodes.some((n) => nodeFormatted(n))) {
    throw new HubError(
      'KIT_KAFKA_LAYOUT_CHANGED',
      `The data in ${previous.dataDir} belongs to a ${previous.nodes.length}-node cluster, not ${next.nodes.length} nodes`,
      { hint: 'delete it with `tributary kafka down --purge` and start again, or keep --nodes as before' },
    );
  }
}

/** A handle on a cluster described by `state` (started here or found via cluster.json). */
export function clusterHandle(
  state: KafkaClusterState,
  javaOptions = brokerJavaOptions(),
  watchdogPid?: number,
): KafkaClusterHandle {
  const find = (nodeId: number): KafkaNodeState => {
    const node = state.nodes.find((n) => n.id === nodeId);
    if (!node) throw new UsageError(`no Kafka node ${nodeId} (nodes are 1..${state.nodes.length})`);
    return node;
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(state.nodes.map((n) => stopNode(state, n)));
      for (const node of state.nodes) node.pid = null;
      await writeClusterState(state);
      stopClusterWatchdog(watchdogPid);
    })();
    return stopped;
  };
  return {
    brokers: brokersOf(state),
    clusterId: state.clusterId,
    version: state.version,
    dataDir: state.dataDir,
    get nodes() {
      return state.nodes.map((n) => nodeStatus(state, n));
    },
    status: () => state.nodes.map((n) => nodeStatus(state, n)),
    stop,
    async kill(nodeId, signal = 'SIGKILL') {
      const node = find(nodeId);
      if (node.pid === null || !nodeAlive(state, node)) return;
      process.kill(node.pid, signal);
      await waitForExit(node.pid, 60_000);
    },
    async restart(nodeId) {
      const node = find(nodeId);
      if (!nodeAlive(state, node)) {
        node.pid = await spawnNode(state, node, javaOptions);
        await writeClusterState(state);
      }
      const live = state.nodes.filter((n) => nodeAlive(state, n)).map((n) => n.id);
      await waitForKafkaReady(state, { nodeIds: live });
      await waitForInSync(state, live);
    },
    activeControllerId: () => activeControllerId(state),
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Reads the KRaft quorum-state file of each live node and returns the leader of the newest
 * epoch: the active controller. Cheaper than starting the metadata-quorum tool's JVM.
 */
export async function activeControllerId(state: KafkaClusterState): Promise<number | undefined> {
  let best: { leaderId: number; leaderEpoch: number } | undefined;
  for (const node of state.nodes) {
    if (!nodeAlive(state, node)) continue;
    try {
      const file = join(node.dir, 'data', '__cluster_metadata-0', 'quorum-state');
      const quorum = JSON.parse(await readFile(file, 'utf8')) as { leaderId?: number; leaderEpoch?: number };
      if (quorum.leaderId === undefined || quorum.leaderId < 0 || quorum.leaderEpoch === undefined) continue;
      if (!best || quorum.leaderEpoch > best.leaderEpoch) {
        best = { leaderId: quorum.leaderId, leaderEpoch: quorum.leaderEpoch };
      }
    } catch {
      // no quorum state yet on this node
    }
  }
  return best?.leaderId;
}
