import { HubError } from '../core/errors.ts';
import { createHubAdmin, type HubAdmin } from '../platform/admin.ts';
import type { HubContext } from '../platform/index.ts';
import { newEnvelope } from '../schemas/index.ts';
import { eventsReadTool } from './events-read-tool.ts';
import type { BridgeTool } from './tools.ts';

/**
 * Tools of the bridge itself (not derived from a component's commands): who am I, which topics
 * exist, publish a schema-checked event. Each runs as the verified caller, who becomes the
 * actor of anything published; the policy decides who sees them (`hub.*`, `topics.list`, ...).
 */

/** `hub.whoami`: the verified identity and roles, without any token echoed back. */
export const whoamiTool: BridgeTool = {
  name: 'hub.whoami',
  title: 'Who am I',
  description: 'Returns the verified identity and roles the bridge acts for in this call.',
  mutating: false,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  outputSchema: {
    type: 'object',
    properties: {
      user: {
        type: 'string',
        description: 'Verified user name (the actor of every event this caller causes).',
      },
      roles: { type: 'array', items: { type: 'string' }, description: 'Roles from the caller’s groups.' },
      sessionId: { type: 'string', description: 'Session of the caller; `stdio` for the local operator.' },
    },
    required: ['user', 'roles', 'sessionId'],
    additionalProperties: false,
  },
  async run(_args, context) {
    const { sub, roles, sessionId } = context.identity;
    return { structuredContent: { user: sub, roles, sessionId } };
  },
};

/** The tools that need nothing but the caller: usable without Kafka. */
export const hubTools: readonly BridgeTool[] = [whoamiTool];

function topicsListTool(admin: () => Promise<HubAdmin>): BridgeTool {
  return {
    name: 'topics.list',
    title: 'List topics',
    description:
      'Lists the Kafka topics of the hub with partitions, replication, cleanup policy and retention.',
    mutating: false,
    inputSchema: {
      type: 'object',
      properties: { prefix: { type: 'string', description: 'Only topics whose name starts with this.' } },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        topics: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              partitions: { type: 'integer' },
              replication: { type: 'integer' },
              cleanupPolicy: { type: 'string' },
              retentionMs: { type: 'string' },
            },
            required: ['name', 'partitions', 'replication'],
          },
        },
      },
      required: ['topics'],
    },
    async run(args) {
      const client = await admin();
      const prefix = typeof args.prefix === 'string' ? args.prefix : '';
      const names = (await client.listTopicNames()).filter((n) => n.startsWith(prefix)).sort();
      const states = await client.describeTopics(names);
      const topics = states
        .map((t) => ({
          name: t.name,
          partitions: t.partitions,
          replication: t.replication,
          cleanupPolicy: t.configs['cleanup.policy'] ?? 'delete',
          retentionMs: t.configs['retention.ms'] ?? '',
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return { structuredContent: { topics } };
    },
  };
}

function eventsPublishTool(hub: HubContext, topicSchemas: ReadonlyMap<string, string>): BridgeTool {
  return {
    name: 'events.publish',
    title: 'Publish an event',
    description:
      'Publishes one event to a topic after checking its data against the Avro schema; the caller becomes the event actor.',
    mutating: true,
    inputSchema: {
      type: 'object',
      properties: {
        topic: { type: 'string', description: 'Topic to publish to.' },
        type: {
          type: 'string',
          description: 'Avro full name of the event, e.g. tributary.crm.ContactChanged.',
        },
        subject: { type: 'string', description: 'Entity key (also the Kafka key).' },
        data: { type: 'object', description: 'The event payload (the schema’s data record).' },
      },
      required: ['topic', 'type', 'subject', 'data'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        eventId: { type: 'string' },
        topic: { type: 'string' },
        partition: { type: 'integer' },
        offset: { type: 'string' },
      },
      required: ['eventId', 'topic', 'partition', 'offset'],
    },
    async run(args, context) {
      const topic = String(args.topic);
      const type = String(args.type);
      const declared = topicSchemas.get(topic);
      if (declared !== undefined && declared !== type) {
        throw new HubError('EVENT_TYPE_MISMATCH', `topic ${topic} carries ${declared}, not ${type}`, {
          where: { topic },
        });
      }
      if (!hub.catalog.has(type)) {
        throw new HubError('SCHEMA_UNKNOWN', `no schema ${type} in the catalog`, {
          where: { subject: type },
        });
      }
      const envelope = newEnvelope({
        type,
        source: 'mcp-bridge',
        subject: String(args.subject),
        actor: context.identity.sub,
        correlationId: context.correlationId,
      });
      const event = { envelope, data: args.data };
      const problems: string[] = [];
      hub.catalog.latest(type).type.isValid(event, {
        errorHook: (path) => void problems.push(path.join('.') || '(root)'),
      });
      if (problems.length > 0) {
        throw new HubError(
          'EVENT_INVALID',
          `the event does not match ${type}: wrong or missing ${problems.join(', ')}`,
          {
            where: { field: problems[0] ?? '' },
          },
        );
      }
      const [metadata] = await hub.producer.publish(topic, [event]);
      return {
        structuredContent: {
          eventId: envelope.id,
          topic,
          partition: metadata?.partition ?? -1,
          offset: metadata?.baseOffset ?? '-1',
        },
      };
    },
  };
}

export interface KafkaHubTools {
  tools: BridgeTool[];
  close(): Promise<void>;
}

/** The hub tools that talk to Kafka; `topicSchemas` (topic -> Avro name) guards events.publish. */
export function createKafkaHubTools(
  hub: HubContext,
  topicSchemas: ReadonlyMap<string, string>,
): KafkaHubTools {
  let admin: HubAdmin | undefined;
  const connected = async () => {
    if (!admin) {
      admin = createHubAdmin(hub.kafka);
      await admin.start();
    }
    return admin;
  };
  return {
    tools: [topicsListTool(connected), eventsPublishTool(hub, topicSchemas), eventsReadTool(hub)],
    async close() {
      await admin?.close();
      admin = undefined;
    },
  };
}
