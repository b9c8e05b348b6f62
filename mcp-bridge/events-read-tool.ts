import { HubError } from '../core/errors.ts';
import { createHubAdmin } from '../platform/admin.ts';
import { createTopicFollower, type FollowedRecord, type HubContext } from '../platform/index.ts';
import type { BridgeTool } from './tools.ts';

/**
 * `events.read`: the most recent events of a topic, decoded through the registry. It follows
 * the topic from its start to its current end with a throw-away group (the platform offers no
 * seek), keeping only the last `limit` records per partition, so memory stays bounded; on very
 * large topics it takes time proportional to what the topic retains.
 */

const maxLimit = 100;

/** Plain JSON of a decoded value (bytes as base64, records as plain objects). */
function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return typeof v === 'bigint' ? v.toString() : v;
    }),
  );
}

/** Builds the tool over the hub context. */
export function eventsReadTool(hub: HubContext): BridgeTool {
  return {
    name: 'events.read',
    title: 'Read recent events',
    description: 'Returns the most recent events of a topic (newest last), decoded with their schemas.',
    mutating: false,
    inputSchema: {
      type: 'object',
      properties: {
        topic: { type: 'string', description: 'Topic to read.' },
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: maxLimit,
          default: 10,
          description: 'How many events.',
        },
      },
      required: ['topic'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        events: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              partition: { type: 'integer' },
              offset: { type: 'string' },
              type: { type: 'string' },
              event: { type: 'object', description: 'The decoded event: envelope and data.' },
            },
            required: ['partition', 'offset', 'type', 'event'],
          },
        },
      },
      required: ['events'],
    },
    async run(args, context) {
      const topic = String(args.topic);
      const limit = Math.min(Number(args.limit ?? 10), maxLimit);
      const kept = new Map<number, FollowedRecord[]>();
      const follower = createTopicFollower({
        kafka: hub.kafka,
        topic,
        onRecord(record) {
          const list = kept.get(record.partition) ?? [];
          list.push(record);
          if (list.length > limit) list.shift();
          kept.set(record.partition, list);
        },
      });
      const topics = await listTopics(hub);
      if (!topics.includes(topic))
        throw new HubError('TOPIC_UNKNOWN', `no topic ${topic}`, { where: { topic } });
      try {
        await follower.start();
        await follower.catchUp(30_000);
      } finally {
        await follower.close();
      }
      if (context.signal.aborted) return { text: 'cancelled', isError: true };
      // Offsets do not order events across partitions; envelope time does (ties by partition, offset).
      const decoded = [];
      for (const record of [...kept.values()].flat()) {
        if (record.value === null) continue;
        const where = { topic, partition: record.partition, offset: record.offset };
        const { schemaName, value } = await hub.serde.decode(record.value, where);
        const time = Number((value as { envelope?: { time?: unknown } }).envelope?.time ?? 0);
        decoded.push({
          partition: record.partition,
          offset: record.offset,
          type: schemaName,
          event: toJson(value),
          time,
        });
      }
      decoded.sort(
        (a, b) => a.time - b.time || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
      );
      const events = decoded.slice(-limit).map(({ time: _time, ...rest }) => rest);
      return { structuredContent: { events } };
    },
  };
}

async function listTopics(hub: HubContext): Promise<string[]> {
  const admin = createHubAdmin(hub.kafka);
  await admin.start();
  try {
    return await admin.listTopicNames();
  } finally {
    await admin.close();
  }
}
