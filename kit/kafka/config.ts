import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Where one node of the local cluster listens and keeps its files. */
export interface KafkaNodeLayout {
  /** node.id, 1-based. */
  id: number;
  /** Client (PLAINTEXT) port on 127.0.0.1. */
  port: number;
  /** KRaft controller port on 127.0.0.1. */
  controllerPort: number;
  /** The node's folder: config, data and logs. */
  dir: string;
  /** Broker log written by log4j2. */
  logFile: string;
  /** The JVM's own stdout/stderr (crashes before logging starts land here). */
  outputFile: string;
}

export const kitHost = '127.0.0.1';

/**
 * Port layout from a base: brokers on base..base+n-1, controllers on base+n..base+2n-1, so a
 * single node keeps Kafka's usual 9092/9093.
 */
export function portsFromBase(base: number, nodes: number): Array<{ port: number; controllerPort: number }> {
  return Array.from({ length: nodes }, (_, i) => ({ port: base + i, controllerPort: base + nodes + i }));
}

/** Folder layout of node `id` under the cluster's data folder. */
export function nodeLayout(
  dataDir: string,
  id: number,
  port: number,
  controllerPort: number,
): KafkaNodeLayout {
  const dir = join(dataDir, `node-${id}`);
  return {
    id,
    port,
    controllerPort,
    dir,
    logFile: join(dir, 'logs', 'server.log'),
    outputFile: join(dir, 'logs', 'stdout.log'),
  };
}

/** A KRaft cluster id: 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` prints. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka refuses ids starting with '-' (they look like a command-line flag).
    if (!id.startsWith('-')) return id;
  }
}

/** How long the kit waits for a cluster of `nodes` to serve clients before it gives up. */
export function defaultReadyTimeoutMs(nodes: number): number {
  return 90_000 + 30_000 * nodes;
}

/**
 * server.properties of one combined broker+controller node. With three nodes, internal topics
 * and new topics get replication factor 3 and min ISR 2, so one broker may die without losing
 * acks=all writes; with one node everything is 1.
 */
export function serverProperties(
  node: KafkaNodeLayout,
  all: KafkaNodeLayout[],
  extra: Record<string, string | number | boolean> = {},
): string {
  const rf = all.length >= 3 ? 3 : 1;
  const minIsr = all.length >= 3 ? 2 : 1;
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': all.map((n) => `${n.id}@${kitHost}:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://${kitHost}:${node.port},CONTROLLER://${kitHost}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${kitHost}:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': join(node.dir, 'data'),
    'num.partitions': 1,
    'default.replication.factor': rf,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': minIsr,
    // Consumers in tests and on a laptop should not wait 3 s for the first rebalance.
    'group.initial.rebalance.delay.ms': 0,
    // Kafka's broker exits when it has not registered with the controller quorum within 60 s,
    // which a three-node start on a loaded two-core machine can exceed. Wait longer than the kit
    // does, so a slow quorum ends in the kit's own error (naming the brokers not registered)
    // instead of a broker that shut itself down.
    'initial.broker.registration.timeout.ms': defaultReadyTimeoutMs(all.length) + 60_000,
    // Small machines: fewer threads and a smaller compaction buffer than the server defaults.
    'num.network.threads': 2,
    'num.io.threads': 4,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    ...extra,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/** log4j2 configuration that writes the broker's log to `logFile` (rolled at 50 MB, 3 kept). */
export function log4j2Properties(logFile: string): string {
  return `status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${logFile}
appender.file.filePattern = ${logFile}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = WARN
logger.kafkaRequest.name = kafka.request.logger
logger.kafkaRequest.level = WARN
`;
}
