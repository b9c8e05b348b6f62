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

/** The action name under which an event of another type is recorded when `recordEvents` is on. */
export const EVENT_RECORDED_ACTION = 'event.recorded';

/**
 * What the chain stores for an event that is not an action, when the audit consumer records a
 * topic of events (`recordEvents`, e.g. a connector's change topic): one entry per event id (the
 * chain drops a re-sent id like a re-sent action), the event's JSON encrypted in the body.
 */
export function eventRecordOf(
  event: HubEvent<unknown>,
  schemaName: string,
  source: RecordPosition,
): ActionRecord {
  const { envelope } = event;
  return {
    eventId: envelope.id,
    time: envelope.time,
    component: envelope.source,
    correlationId: envelope.correlationId ?? null,
    action: EVENT_RECORDED_ACTION,
    actor: envelope.actor ?? envelope.source,
    resource: source.topic,
    outcome: 'succeeded',
    argsDigest: null,
    subjectId: null,
    details: {
      type: schemaName,
      subject: envelope.subject,
      data: JSON.stringify(event.data, (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
    },
    source: { topic: source.topic, partition: source.partition, offset: source.offset },
  };
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
