import type { Logger } from '../../core/logger.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createTopicFollower,
  type EventProducer,
  ensureTopic,
  type KafkaClient,
} from '../../platform/index.ts';

/** Compacted topic of operator commands to running connectors (pause/resume), keyed by connector. */
export const CONNECTOR_CONTROL_TOPIC = '_tributary.connector-control';

export type ControlCommand = 'pause' | 'resume';

export interface ControlRecord {
  connector: string;
  command: ControlCommand;
  actor: string;
  at: number;
}

/**
 * How `tributary connectors pause|resume` reaches connectors running in other processes: the
 * CLI writes the wanted state, every running connector follows the topic and applies the last
 * record for its name (also the one it finds on start, so a paused connector stays paused).
 * Each request is audited once, where it is made: `connector.pause` or `connector.resume` by its
 * actor on the connector.
 */
export interface ConnectorControl {
  send(connector: string, command: ControlCommand, actor: string): Promise<void>;
  /** Calls `onCommand` for every record, the existing ones first. */
  follow(onCommand: (record: ControlRecord) => void): Promise<void>;
  close(): Promise<void>;
}

/** Builds the control channel over `topic` (created compacted when missing). */
export function createConnectorControl(options: {
  kafka: KafkaClient;
  producer: EventProducer;
  topic?: string;
  /** Where the audit actions of the requests go (with the hub's topic prefix). */
  actionsTopic?: string;
  logger?: Logger;
}): ConnectorControl {
  const topic = options.topic ?? CONNECTOR_CONTROL_TOPIC;
  const actions = createActionEmitter({
    producer: options.producer,
    source: 'connector.control',
    topic: options.actionsTopic ?? ACTIONS_TOPIC,
  });
  let follower: ReturnType<typeof createTopicFollower> | undefined;
  const ensure = () =>
    ensureTopic({ kafka: options.kafka, topic, partitions: 1, configs: { 'cleanup.policy': 'compact' } });
  return {
    async send(connector, command, actor) {
      await ensure();
      const record: ControlRecord = { connector, command, actor, at: Date.now() };
      await options.producer.publishRaw(topic, [
        { key: connector, value: Buffer.from(JSON.stringify(record)) },
      ]);
      await actions.emit({
        action: `connector.${command}`,
        actor,
        resource: connector,
        outcome: 'succeeded',
        details: { controlTopic: topic },
      });
    },
    async follow(onCommand) {
      await ensure();
      follower = createTopicFollower({
        kafka: options.kafka,
        topic,
        ...(options.logger ? { logger: options.logger } : {}),
        onRecord: (r) => {
          if (!r.value) return;
          try {
            onCommand(JSON.parse(r.value.toString('utf8')) as ControlRecord);
          } catch (err) {
            options.logger?.warn({ err }, 'unreadable connector control record ignored');
          }
        },
      });
      await follower.start();
      await follower.catchUp(30_000);
    },
    async close() {
      await follower?.close();
    },
  };
}
