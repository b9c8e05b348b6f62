import { z } from 'zod';
import { ACTIONS_TOPIC, retryPolicySchema } from '../../platform/index.ts';
import { s3BlobStoreConfigSchema } from '../blob-store/s3-config.ts';
import { jobRunnerSettingsSchema } from './job-runner.ts';

/** Config every media processor shares: blob store, consumer group, pool, timeouts, breaker, retries. */
export const processorBaseConfigSchema = z.object({
  groupId: z.string().optional().describe('Consumer group; default `tributary.<processor name>`'),
  blobDir: z
    .string()
    .default(() => process.env.TRIBUTARY_BLOB_DIR ?? '.tributary/blobs')
    .describe('Folder of the local content-addressed blob store (TRIBUTARY_BLOB_DIR)'),
  blobS3: s3BlobStoreConfigSchema
    .optional()
    .describe('S3-compatible blob store (bucket, endpoint, ...); replaces the local blobDir when set'),
  runner: jobRunnerSettingsSchema
    .default(jobRunnerSettingsSchema.parse({}))
    .describe('Pool, timeout and breaker'),
  retry: retryPolicySchema
    .default(retryPolicySchema.parse({ retries: 3 }))
    .describe('Retries of a retriable failure before a failed result and a DLQ record'),
  idempotency: z
    .enum(['topic', 'memory'])
    .default('topic')
    .describe(
      'Where applied request ids are kept: `topic` (durable, `_tributary.applied.<group>`, survives restarts) or `memory` (this process only)',
    ),
  actionsTopic: z
    .string()
    .default(ACTIONS_TOPIC)
    .describe('Topic every result is reported to as a `processor.result` audit action (topicPrefix applies)'),
  topicPrefix: z
    .string()
    .default('')
    .describe('Prefix of every topic name (tests isolate themselves with it)'),
});

export type ProcessorBaseConfig = z.infer<typeof processorBaseConfigSchema>;

/** Which provider a processor uses when a request names none. */
export const providerNameSchema = z.enum(['offline', 'openai']);
