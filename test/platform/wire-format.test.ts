import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createActionEmitter } from '../../platform/actions.ts';
import { AVRO_CONTENT_TYPE, EventHeaders } from '../../platform/producer.ts';
import { headerText } from '../../platform/records.ts';
import { actionEvent, createTopics, deleteTopics, randomName, readTopic, testHub } from './support.ts';

// Must-show of the foundation issue: what the hub writes, a plain Avro reader can read.
describe('event producer on a real broker', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const topic = randomName('wire');
  const actionsTopic = randomName('actions');

  beforeAll(async () => {
    hub = await testHub();
    await createTopics(hub.kafka, [topic, actionsTopic], 3);
  });
  afterAll(async () => {
    await hub.close();
    await deleteTopics(hub.kafka, [topic, actionsTopic, hub.schemaLogTopic]);
  });

  it('writes Confluent wire format that a plain avsc reader decodes with the registry schema', async () => {
    const events = [actionEvent('order-1', 'erp.order.pushed'), actionEvent('order-2', 'erp.order.failed')];
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const metadata = await hub.producer.publish(topic, events, { traceparent });
    expect(metadata.length).toBeGreaterThan(0);

    const records = await readTopic(hub.kafka, topic);
    expect(records).toHaveLength(2);
    for (const record of records) {
      const value = record.value!;
      expect(value[0]).toBe(0); // magic byte
      const schemaId = value.readInt32BE(1);
      const writerSchema = await hub.registry.getById(schemaId);
      // No hub logical types registered: exactly what a Java or Python consumer would do.
      const reader = avro.Type.forSchema(
        (typeof writerSchema === 'string' ? JSON.parse(writerSchema) : writerSchema) as avro.Schema,
      );
      const decoded = reader.fromBuffer(value.subarray(5)) as {
        envelope: { id: string; subject: string; time: number };
        data: { action: string; outcome: string };
      };
      const sent = events.find((e) => e.envelope.id === decoded.envelope.id);
      expect(sent).toBeDefined();
      expect(record.key?.toString()).toBe(sent!.envelope.subject);
      expect(decoded.envelope.subject).toBe(sent!.envelope.subject);
      expect(decoded.data.action).toBe((sent!.data as { action: string }).action);
      expect(decoded.data.outcome).toBe('succeeded');
      expect(Number(decoded.envelope.time)).toBe(Number(sent!.envelope.time));
      expect(headerText(record.headers, EventHeaders.traceparent)).toBe(traceparent);
      expect(headerText(record.headers, EventHeaders.contentType)).toBe(AVRO_CONTENT_TYPE);
      expect(headerText(record.headers, EventHeaders.eventId)).toBe(decoded.envelope.id);
    }
  });

  it('sends nothing of a batch when one event is invalid, naming the field', async () => {
    const good = actionEvent('order-3');
    const bad = actionEvent('order-4');
    (bad.data as Record<string, unknown>).outcome = 'maybe';
    const error = await hub.producer.publish(topic, [good, bad]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).where.index).toBe(1);
    expect(JSON.stringify((error as HubError).toJSON())).toContain('outcome');
    // Only the two records of the first test are there.
    expect(await readTopic(hub.kafka, topic)).toHaveLength(2);
  });

  it('emits audit actions that decode back to the action schema', async () => {
    const actions = createActionEmitter({
      producer: hub.producer,
      source: 'connector.test',
      topic: actionsTopic,
    });
    const id = await actions.emit({
      action: 'connector.push',
      actor: 'svc-sync',
      resource: 'crm.contact/42',
      outcome: 'failed',
      correlationId: 'corr-1',
      details: { status: 409, reason: 'conflict' },
    });
    const [record] = await readTopic(hub.kafka, actionsTopic);
    const decoded = await hub.serde.decode(record!.value!, {
      topic: actionsTopic,
      partition: 0,
      offset: '0',
    });
    expect(decoded.schemaName).toBe('tributary.audit.Action');
    const event = decoded.value as { envelope: Record<string, unknown>; data: Record<string, unknown> };
    expect(event.envelope.id).toBe(id);
    expect(event.envelope.source).toBe('connector.test');
    expect(event.envelope.correlationId).toBe('corr-1');
    expect(event.data).toMatchObject({
      action: 'connector.push',
      actor: 'svc-sync',
      resource: 'crm.contact/42',
      outcome: 'failed',
      details: { status: '409', reason: 'conflict' },
    });
  });
});
