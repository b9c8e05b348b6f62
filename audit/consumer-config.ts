import { z } from 'zod';
import { ACTIONS_TOPIC } from '../platform/index.ts';
import { ANCHOR_TOPIC } from './anchors.ts';

/** Settings of the audit consumer (`tributary audit run`, the `audit` declaration). */
export const auditConsumerConfigSchema = z.object({
  dir: z
    .string()
    .default('.tributary/audit')
    .describe('Audit store folder (one chain-<partition>/ per partition)'),
  topic: z.string().default(ACTIONS_TOPIC).describe('Action topic to record'),
  recordEvents: z
    .boolean()
    .default(false)
    .describe(
      'Record events of other types too (e.g. a connector change topic), one event.recorded entry per event id; otherwise they are recorded as undecodable',
    ),
  groupId: z.string().default('tributary.audit').describe('Consumer group of the audit consumer'),
  keyFile: z
    .string()
    .optional()
    .describe(
      'Audit key file; otherwise TRIBUTARY_AUDIT_KEY_FILE or TRIBUTARY_AUDIT_KEYS. There is no default key.',
    ),
  subjectKeyFile: z.string().optional().describe('Per-subject key store; default <dir>/subject-keys.json'),
  fsync: z
    .boolean()
    .default(true)
    .describe('make every batch durable (O_DSYNC writes) before committing offsets'),
  segmentBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024)
    .describe('Segment file size that starts a new one'),
  checkpointEvery: z.number().int().positive().default(1000).describe('Sign a checkpoint every N entries'),
  checkpointIntervalMs: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe('Sign a checkpoint at least this often while entries arrive'),
  partitionsConsumedConcurrently: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe('Chains written in parallel'),
  threads: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe(
      'Worker threads, each a member of the audit group writing the chains of its partitions: more cores for the audit when hub.actions has more partitions than one thread keeps up with',
    ),
  anchorTopic: z
    .string()
    .default(ANCHOR_TOPIC)
    .describe('Compacted topic every signed checkpoint is also published to (verify --anchors reads it)'),
  joinTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(60_000)
    .describe('Longest wait in start() for the group to assign partitions'),
  sessionTimeoutMs: z
    .number()
    .int()
    .min(6000)
    .default(30_000)
    .describe('Group session timeout: how soon a crashed member is replaced (broker minimum 6 s)'),
});
export type AuditConsumerConfig = z.input<typeof auditConsumerConfigSchema>;
