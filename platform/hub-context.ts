import { type Logger, silentLogger } from '../core/logger.ts';
import {
  createSerde,
  loadCatalog,
  registryFromEnv,
  type SchemaCatalog,
  type SchemaRegistry,
  type Serde,
} from '../schemas/index.ts';
import { createKafka, type KafkaClient, type KafkaSettings, kafkaSettingsFromEnv } from './kafka.ts';
import { createEventProducer, type EventProducer } from './producer.ts';
import { createKafkaSchemaLog } from './schema-log.ts';

/** Everything a component or CLI command needs to read and write typed events. */
export interface HubContext {
  kafka: KafkaClient;
  catalog: SchemaCatalog;
  registry: SchemaRegistry;
  serde: Serde;
  producer: EventProducer;
  logger: Logger;
  /**
   * What this context was built from, as plain data: another thread (a component's worker)
   * builds its own context with these and reaches the same cluster and schema ids.
   */
  settings: HubSettings;
  /** Closes the producer and the schema log (not consumers the caller created). Idempotent. */
  close(): Promise<void>;
}

/** The plain-data part of HubContextOptions (no logger), as a context resolved it. */
export interface HubSettings {
  env: Record<string, string | undefined>;
  kafkaSettings: KafkaSettings;
  schemaDir?: string;
  schemaLogTopic?: string;
}

export interface HubContextOptions {
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Overrides what the environment says about Kafka (KAFKA_BROKERS, ...). */
  kafkaSettings?: KafkaSettings;
  /** Root folder of the .avsc catalog; the schemas package default when omitted. */
  schemaDir?: string;
  /** Topic of the embedded registry's log; `_tributary.schemas` unless a test isolates itself. */
  schemaLogTopic?: string;
}

/**
 * Builds the hub's shared plumbing from the environment: a Confluent-compatible registry when
 * SCHEMA_REGISTRY_URL is set (SCHEMA_REGISTRY_USERNAME/PASSWORD for basic auth), otherwise the
 * embedded registry over the compacted `_tributary.schemas` topic, so several hub processes
 * agree on schema ids with no extra server.
 */
export async function createHubContext(options: HubContextOptions = {}): Promise<HubContext> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger();
  const kafkaSettings = options.kafkaSettings ?? kafkaSettingsFromEnv(env);
  const kafka = createKafka(kafkaSettings, logger);
  const catalog = await loadCatalog(options.schemaDir);
  // Lazy: it touches Kafka only if the embedded registry is the one chosen.
  const schemaLog = createKafkaSchemaLog({
    kafka,
    logger,
    ...(options.schemaLogTopic ? { topic: options.schemaLogTopic } : {}),
  });
  const registry = registryFromEnv({ env, log: schemaLog });
  const serde = createSerde({ registry, catalog });
  const producer = createEventProducer({ kafka, serde, logger });
  let closed: Promise<void> | undefined;
  return {
    kafka,
    catalog,
    registry,
    serde,
    producer,
    logger,
    settings: {
      env: { ...env },
      kafkaSettings,
      ...(options.schemaDir ? { schemaDir: options.schemaDir } : {}),
      ...(options.schemaLogTopic ? { schemaLogTopic: options.schemaLogTopic } : {}),
    },
    close() {
      closed ??= Promise.all([producer.close(), schemaLog.close()]).then(() => undefined);
      return closed;
    },
  };
}
