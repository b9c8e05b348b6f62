/**
 * The Kafka version the local kit runs. Kafka 4.1.x was chosen over 3.9.x because kafkajs 2.2.4
 * was verified against a 4.1.2 KRaft broker end to end (idempotent producer, transactions with
 * sendOffsets, consumer groups, admin create/alter/describe configs, partitions, offsets by
 * timestamp), and 4.x is the line that gets fixes; 3.9 is the last release with ZooKeeper.
 * Change it here only after re-running test/kit and the platform tests against the new version.
 */
export const kafkaVersion = '4.1.2';

/** Scala build of the broker jar (kafka_2.13 is the only one published for 4.x). */
export const kafkaScalaVersion = '2.13';

/** log4j-core shipped in Kafka 4.1.2's dependency set; the slf4j binding must match it. */
export const kafkaLog4jVersion = '2.25.3';
