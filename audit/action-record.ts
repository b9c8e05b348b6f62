import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { ACTION_EVENT_TYPE } from '../platform/index.ts';
import type { EventData, HubEvent, Serde } from '../schemas/index.ts';
import type { ActionRecord } from './entry.ts';

/** The action name under which a record that is not a readable action is recorded. */
export const UNDECODABLE_ACTION = 'audit.record.undecodable';

/** The parts of a Kafka message used here (kafkajs types stay inside platform/). */
export interface KafkaMessageLike {
  offset: string;
  timestamp: string;
  value: Buffer | null;
}

/**
 * Turns an action record into what the chain stores. A record that can never decode (not Avro,
 * not an action) is recorded as an `audit.record.undecodable` entry with its bytes encrypted in
 * the body, so the chain has no hole and the problem is itself on the record. A retriable
 * failure (the schema registry is down) is thrown so the batch is retried.
 */
export async function actionRecordOf(
  serde: Serde,
  message: KafkaMessageLike,
  at: { topic: string; partition: number },
  logger: Logger,
): Promise<ActionRecord> {
  const { topic, partition } = at;
  const source = { topic, partition, offset: message.offset };
  try {
    if (!message.value) throw new HubError('AUDIT_EMPTY_RECORD', 'record has no value');
    const decoded = await serde.decode(message.value, source);
    if (decoded.schemaName !== ACTION_EVENT_TYPE) {
      throw new HubError(
        'AUDIT_NOT_AN_ACTION',
        `record is a ${decoded.schemaName}, not a ${ACTION_EVENT_TYPE}`,
      );
    }
    const { envelope, data } = decoded.value as HubEvent<EventData<'tributary.audit.Action'>>;
    return {
      eventId: envelope.id,
      time: envelope.time,
      component: envelope.source,
      correlationId: envelope.correlationId ?? null,
      action: data.action,
      actor: data.actor,
      resource: data.resource,
      outcome: data.outcome,
      argsDigest: data.argsDigest ?? null,
      subjectId: data.subjectId ?? null,
      details: data.details ?? {},
      source,
    };
  } catch (err) {
    const error = toHubError(err, 'AUDIT_DECODE', source);
    if (error.retriable) throw error;
    logger.warn({ ...source, code: error.code }, 'recording an undecodable action record as such');
    return {
      eventId: `kafka:${topic}:${partition}:${message.offset}`,
      time: Number(message.timestamp),
      component: 'audit',
      correlationId: null,
      action: UNDECODABLE_ACTION,
      actor: 'tributary.audit',
      resource: topic,
      outcome: 'failed',
      argsDigest: null,
      subjectId: null,
      details: { error: `${error.code}: ${error.message}`, value: message.value?.toString('base64') ?? '' },
      source,
    };
  }
}
