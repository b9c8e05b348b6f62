import { join } from 'node:path';
import { fetchMavenArtifacts, type MavenCoordinate } from '../maven.ts';
import { tributaryCache } from '../paths.ts';
import { kafkaLog4jVersion, kafkaScalaVersion, kafkaVersion } from './version.ts';

/** Folder with the jars of one Kafka version: `<cache>/kafka-<version>/libs`. */
export function kafkaLibsDir(version = kafkaVersion, cacheDir = tributaryCache()): string {
  return join(cacheDir, `kafka-${version}`, 'libs');
}

/**
 * The broker, its tools (StorageTool, metadata quorum) and an SLF4J binding to log4j2, so the
 * brokers write real log files instead of the SLF4J no-op logger.
 */
export function kafkaArtifacts(version = kafkaVersion): MavenCoordinate[] {
  return [
    `org.apache.kafka:kafka_${kafkaScalaVersion}:${version}`,
    `org.apache.kafka:kafka-tools:${version}`,
    `org.apache.logging.log4j:log4j-slf4j-impl:${kafkaLog4jVersion}`,
  ];
}

/** Fetches the Kafka jars once into the cache and returns the libs folder (reused after). */
export function ensureKafkaJars(
  options: {
    version?: string;
    cacheDir?: string;
    signal?: AbortSignal;
    onProgress?: (m: string) => void;
  } = {},
): Promise<string> {
  const version = options.version ?? kafkaVersion;
  return fetchMavenArtifacts({
    artifacts: kafkaArtifacts(version),
    outputDir: kafkaLibsDir(version, options.cacheDir),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}
