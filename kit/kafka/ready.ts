import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createKafka, kafkaConfigSchema } from '../../platform/kafka.ts';
import { defaultReadyTimeoutMs } from './config.ts';
import { nodeAlive, nodeLogErrors, nodeLogTail, portTakenIn } from './node.ts';
import type { KafkaClusterState, KafkaNodeState } from './state.ts';

export interface WaitReadyOptions {
  /** Node ids that must be registered brokers; default every node of the cluster. */
  nodeIds?: number[];
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** A short admin client to the local cluster, quiet about the connection errors of a start. */
export function kitKafka(brokers: string[]) {
  return createKafka(
    kafkaConfigSchema.parse({
      brokers,
      clientId: 'tributary-kit',
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 5000,
    }),
    silentLogger(),
  );
}

export function brokersOf(state: KafkaClusterState): string[] {
  return state.nodes.map((n) => `127.0.0.1:${n.port}`);
}

async function exitedError(node: KafkaNodeState): Promise<HubError> {
  const [errors, tail] = await Promise.all([nodeLogErrors(node), nodeLogTail(node, 15)]);
  const portTaken = portTakenIn(errors);
  const first = errors.length > 0 ? `First errors in its log:\n${errors.join('\n')}\n` : '';
  return new HubError(
    'KIT_KAFKA_EXITED',
    `Kafka node ${node.id} exited during start. ${first}Last log lines:\n${tail}`,
    {
      where: { node: node.id, log: node.logFile, ...(portTaken ? { portTaken: 'yes' } : {}) },
      hint: portTaken
        ? 'another process took one of its ports before the broker listened; start again, or choose other ports with --port <base>'
        : 'read the log above (a taken port, a corrupt data folder, too little memory); `tributary kafka down --purge` starts from empty data',
    },
  );
}

/**
 * Waits until the cluster serves clients: every expected broker is registered, and a group
 * coordinator answers (so __consumer_offsets exists and is loaded; the first seconds after a
 * start otherwise give "coordinator is loading" errors). Fails fast when a node exits.
 */
export async function waitForKafkaReady(
  state: KafkaClusterState,
  options: WaitReadyOptions = {},
): Promise<void> {
  const expected = options.nodeIds ?? state.nodes.map((n) => n.id);
  const timeoutMs = options.timeoutMs ?? defaultReadyTimeoutMs(state.nodes.length);
  const started = Date.now();
  let lastProgress = started;
  let lastProblem = 'no answer yet';
  const admin = kitKafka(brokersOf(state)).admin();
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      for (const node of state.nodes) {
        if (expected.includes(node.id) && !nodeAlive(state, node)) throw await exitedError(node);
      }
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        const registered = new Set(cluster.brokers.map((b) => b.nodeId));
        const missing = expected.filter((id) => !registered.has(id));
        if (missing.length > 0) {
          lastProblem = `brokers ${missing.join(', ')} not registered yet`;
        } else {
          await admin.describeGroups(['_tributary-kit-ready']);
          return;
        }
      } catch (err) {
        lastProblem = (err as Error).message;
        await admin.disconnect().catch(() => undefined);
      }
      const now = Date.now();
      if (now - started > timeoutMs) {
        throw new HubError(
          'KIT_KAFKA_NOT_READY',
          `Kafka did not become ready within ${Math.round(timeoutMs / 1000)} s (${lastProblem})`,
          {
            retriable: true,
            hint: `see the broker logs: tributary kafka logs (files under ${state.dataDir})`,
          },
        );
      }
      if (now - lastProgress >= 5000) {
        lastProgress = now;
        options.onProgress?.(
          `waiting for Kafka at ${brokersOf(state).join(',')} (${Math.round((now - started) / 1000)} s: ${lastProblem})`,
        );
      }
      await sleep(300, undefined, options.signal ? { signal: options.signal } : {});
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Waits until every partition lists each live replica in its ISR again (a restarted broker
 * has caught up), so the next failure a test injects still leaves min ISR satisfied.
 */
export async function waitForInSync(
  state: KafkaClusterState,
  liveIds: number[],
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kitKafka(
    state.nodes.filter((n) => liveIds.includes(n.id)).map((n) => `127.0.0.1:${n.port}`),
  ).admin();
  const deadline = Date.now() + timeoutMs;
  let lagging = 'unknown';
  try {
    await admin.connect();
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata();
        const behind = topics.flatMap((t) =>
          t.partitions
            .filter((p) => p.replicas.some((r) => liveIds.includes(r) && !p.isr.includes(r)))
            .map((p) => `${t.name}-${p.partitionId}`),
        );
        if (behind.length === 0) return;
        lagging = behind.slice(0, 5).join(', ');
      } catch (err) {
        lagging = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new HubError(
          'KIT_KAFKA_NOT_READY',
          `Replicas did not catch up within ${timeoutMs / 1000} s (${lagging})`,
          {
            retriable: true,
          },
        );
      }
      await sleep(500);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
