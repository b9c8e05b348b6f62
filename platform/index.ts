/** The Kafka plumbing of the hub: the one module that talks to kafkajs. Import from here only. */
export {
  ACTION_EVENT_TYPE,
  ACTIONS_TOPIC,
  type ActionEmitter,
  type ActionInput,
  type ActionOutcome,
  createActionEmitter,
  emitInOrder,
  type InOrderOptions,
} from './actions.ts';
export {
  createEventConsumer,
  type EventConsumer,
  type EventConsumerOptions,
  type EventConsumerStatus,
  type EventContext,
  type EventHandler,
} from './consumer.ts';
export type { AssignedPartition, AssignmentHook } from './consumer-assignment.ts';
export type { BatchEvent, BatchHandler, PartitionContext, UndecodableHook } from './consumer-batch.ts';
export {
  createDeadLetterWriter,
  type DeadLetter,
  DeadLetterHeaders,
  type DeadLetterInfo,
  type DeadLetterStage,
  type DeadLetterWriter,
  deadLetterTopic,
  RedriveHeaders,
  readDeadLetterHeaders,
  redriveRecord,
  withoutDeadLetterHeaders,
} from './dead-letter.ts';
export {
  type EnsureTopicOptions,
  ensureTopic,
  ensureTopicOnce,
  waitForTopicLeaders,
} from './ensure-topic.ts';
export { createOffsetAdmin, type GroupState, type OffsetAdmin, type OffsetBounds } from './group-offsets.ts';
export {
  createHubContext,
  type HubContext,
  type HubContextOptions,
  type HubSettings,
} from './hub-context.ts';
export { hubDeclaration } from './hub-declaration.ts';
export { createMemoryIdempotencyStore, type IdempotencyStore } from './idempotency.ts';
export {
  APPLIED_TOPIC_PREFIX,
  appliedTopic,
  createTopicIdempotencyStore,
  DEFAULT_APPLIED_RETENTION_MS,
  type TopicIdempotencyStoreOptions,
} from './idempotency-topic.ts';
export {
  createIdempotentProducer,
  createKafka,
  type KafkaClient,
  type KafkaSettings,
  kafkaConfigSchema,
  kafkaSettingsFromEnv,
} from './kafka.ts';
export { fromKafkaError } from './kafka-errors.ts';
export {
  AVRO_CONTENT_TYPE,
  createEventProducer,
  EventHeaders,
  type EventProducer,
  type EventProducerOptions,
  type PublishOptions,
} from './producer.ts';
export type { PublishPipeline, Submitted } from './publish-pipeline.ts';
export {
  headerText,
  type RawHeaders,
  type RawRecord,
  type RecordMetadata,
  type RecordPosition,
} from './records.ts';
export { type PartitionRange, type RangeRecord, type ReadRangeOptions, readRange } from './replay-reader.ts';
export { backoffDelay, type RetryPolicy, retryPolicySchema } from './retry-policy.ts';
export {
  createKafkaSchemaLog,
  type KafkaSchemaLog,
  type KafkaSchemaLogOptions,
  SCHEMA_LOG_TOPIC,
  schemaLogTopicConfigs,
} from './schema-log.ts';
export { createTopicFollower, type FollowedRecord, type TopicFollower } from './topic-follower.ts';
export {
  activeTraceId,
  annotateActiveSpan,
  contextFromHeaders,
  markActiveSpanFailed,
  type SpanKindName,
  type SpanOptions,
  traceHeaders,
  withSpan,
} from './tracing.ts';
export {
  startTracing,
  type Tracing,
  type TracingConfig,
  type TracingOptions,
  tracingConfigFromEnv,
} from './tracing-sdk.ts';
