import type { HubError } from '../core/errors.ts';
import { ACTION_EVENT_TYPE, type RawRecord, type RecordPosition } from '../platform/index.ts';
import type { EventData, HubEvent } from '../schemas/index.ts';
import type { ActionRecord } from './entry.ts';

/** The action name under which a record that is not a readable action is recorded. */
export const UNDECODABLE_ACTION = 'audit.record.undecodable';

/** What the chain stores for a decoded action event at its source position. */
export function actionRecordOf(event: HubEvent<unknown>, source: RecordPosition): ActionRecord {
  const { envelope, data } = event as HubEvent<EventData<'tributary.audit.Action'>>;
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
    source: { topic: source.topic, partition: source.partition, offset: source.offset },
  };
}

/** True when a decoded event is an action (anything else on the action topic is recorded as undecodable). */
export function isActionEvent(schemaName: string): boolean {
  return schemaName === ACTION_EVENT_TYPE;
}

/**
 * A record that is not a readable action (not Avro, or an event of another type) is recorded
 * as an `audit.record.undecodable` entry with its content encrypted in the body, so the chain
 * has no hole and the problem is itself on the record.
 */
export function undecodableRecord(
  source: RecordPosition,
  content: { value: string; time: number },
  error: Pick<HubError, 'code' | 'message'>,
): ActionRecord {
  return {
    eventId: `kafka:${source.topic}:${source.partition}:${source.offset}`,
    time: content.time,
    component: 'audit',
    correlationId: null,
    action: UNDECODABLE_ACTION,
    actor: 'tributary.audit',
    resource: source.topic,
    outcome: 'failed',
    argsDigest: null,
    subjectId: null,
    details: { error: `${error.code}: ${error.message}`, value: content.value },
    source: { topic: source.topic, partition: source.partition, offset: source.offset },
  };
}

/** The undecodable entry of a raw record: its bytes, base64. */
export function undecodableRawRecord(
  record: RawRecord,
  source: RecordPosition,
  error: HubError,
): ActionRecord {
  const time = Number(record.timestamp);
  return undecodableRecord(
    source,
    { value: record.value?.toString('base64') ?? '', time: Number.isFinite(time) ? time : Date.now() },
    error,
  );
}

/** The undecodable entry of an event of another type: its JSON (Avro longs as decimal strings). */
export function foreignEventRecord(event: HubEvent<unknown>, schemaName: string, source: RecordPosition) {
  const json = JSON.stringify(event, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  return undecodableRecord(
    source,
    { value: json, time: event.envelope.time },
    { code: 'AUDIT_NOT_AN_ACTION', message: `record is a ${schemaName}, not a ${ACTION_EVENT_TYPE}` },
  );
}
