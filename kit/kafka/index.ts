/** The local Kafka kit: a KRaft cluster from the Apache jars, run by the machine's Java. */
export {
  activeControllerId,
  clusterHandle,
  type KafkaClusterHandle,
  type KafkaNodeStatus,
  type StartKafkaClusterOptions,
  startKafkaCluster,
} from './cluster.ts';
export {
  defaultKafkaBasePort,
  defaultKafkaDataDir,
  type KafkaDownResult,
  type KafkaLogsOptions,
  type KafkaStatus,
  type KafkaUpOptions,
  type KafkaUpResult,
  kafkaDown,
  kafkaLogs,
  kafkaStatus,
  kafkaUp,
} from './commands.ts';
export { portsFromBase } from './config.ts';
export { ensureKafkaJars, kafkaLibsDir } from './jars.ts';
export { type KafkaClusterState, readClusterState } from './state.ts';
export { kafkaVersion } from './version.ts';
