import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster } from '../../kit/kafka/index.ts';

/** The Kafka a benchmark talks to: the one in KAFKA_BROKERS, or a dedicated local broker. */
export interface BenchBroker {
  brokers: string[];
  /** `KAFKA_BROKERS` or `dedicated local broker (kit)`, for the printed setup. */
  origin: string;
  /** Process ids of a dedicated broker's JVMs (none for KAFKA_BROKERS). */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * The JVM options Apache Kafka's own start script gives a broker (kafka-run-class.sh): the kit's
 * quick-start defaults (C1 only, serial GC) suit tests, not a throughput measurement.
 */
export const benchBrokerJavaOptions = [
  '-Xms1g',
  '-Xmx1g',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
];

/**
 * KAFKA_BROKERS when set (nothing is started or stopped); otherwise a single-node broker from
 * the local kit in its own temp folder on free ports, tied to this process by the kit's
 * watchdog so a killed benchmark leaves no JVM behind.
 */
export async function benchBroker(log: (m: string) => void = (m) => console.error(m)): Promise<BenchBroker> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    return {
      brokers: fromEnv
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      // bench/run.ts shares its own broker with each benchmark and says which it is.
      origin: process.env.BENCH_BROKER_ORIGIN ?? 'KAFKA_BROKERS',
      // bench/run.ts passes the pids of the broker it started.
      pids: () => (process.env.BENCH_BROKER_PIDS ?? '').split(',').filter(Boolean).map(Number),
      stop: async () => {},
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-bench-kafka-'));
  try {
    const cluster = await startKafkaCluster({
      nodes: 1,
      dataDir,
      ownerPid: process.pid,
      purgeOnOwnerExit: true,
      onProgress: log,
      javaOptions: benchBrokerJavaOptions,
    });
    let stopped: Promise<void> | undefined;
    return {
      brokers: cluster.brokers,
      origin: `dedicated local broker (kit, 1 node, Kafka ${cluster.version}, JVM ${benchBrokerJavaOptions.slice(0, 2).join(' ')} G1GC)`,
      pids: () => cluster.nodes.flatMap((n) => (n.pid === null ? [] : [n.pid])),
      stop() {
        stopped ??= cluster.stop().finally(() => rm(dataDir, { recursive: true, force: true }));
        return stopped;
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
