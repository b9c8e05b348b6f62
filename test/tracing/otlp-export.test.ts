import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeadLetterWriter,
  createEventConsumer,
  type EventConsumer,
  startTracing,
  type Tracing,
} from '../../platform/index.ts';
import {
  actionEvent,
  createTopics,
  deleteTopics,
  randomName,
  testHub,
  waitUntil,
} from '../platform/support.ts';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.ts';
import { newTraceparent, parseTraceparent, recordTopics } from './support.ts';

/**
 * The OTLP exporter against a real HTTP receiver: the hub's provider configured by OTEL_*
 * variables only, spans made by a real Kafka round trip, and the protobuf request the
 * receiver gets decoded field by field (otlp-protobuf.ts).
 */

let receiver: OtlpReceiver;
let tracing: Tracing;
let hub: Awaited<ReturnType<typeof testHub>>;
let consumer: EventConsumer | undefined;
const inbound = randomName('otlp-in');
const outbound = randomName('otlp-out');

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = await startTracing({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'tributary-otlp-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=integration%20platform',
    },
    serviceVersion: '9.9.9',
  });
  hub = await testHub();
  await createTopics(hub.kafka, [inbound, outbound], 2);
}, 120_000);

afterAll(async () => {
  await consumer?.close();
  await hub?.close();
  await deleteTopics(hub.kafka, [inbound, outbound, hub.schemaLogTopic]);
  await tracing?.shutdown();
  await receiver?.close();
});

describe('OTLP export', () => {
  it('sends the spans of a Kafka round trip to the collector as OTLP/HTTP protobuf', async () => {
    expect(tracing.enabled).toBe(true);
    const upstream = newTraceparent();
    const group = randomName('otlp-group');
    // A handler that publishes a follow-up event: the span of each hop continues the trace.
    consumer = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: group,
      topics: [inbound],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      handler: async (event) => {
        await hub.producer.publish(outbound, [actionEvent(event.envelope.subject, 'follow.up')]);
      },
    });
    await consumer.start();
    const reader = await recordTopics(hub.kafka, hub.serde, [outbound]);
    try {
      await hub.producer.publish(inbound, [actionEvent('order-1')], { traceparent: upstream.header });
      await waitUntil('the follow-up event', () => reader.records.length === 1);
    } finally {
      await reader.stop();
    }
    const followUp = parseTraceparent(reader.records[0]?.traceparent);
    expect(followUp.traceId).toBe(upstream.traceId);

    await tracing.forceFlush();
    const spans = receiver.spans;
    const received = receiver.received;
    await waitUntil(
      'both spans at the receiver',
      () => spans().filter((s) => s.traceId === upstream.traceId).length >= 2,
    );

    expect(received[0]?.path).toBe('/v1/traces');
    expect(received[0]?.contentType).toBe('application/x-protobuf');
    const resourceSpans = received.flatMap((r) => r.body);
    expect(resourceSpans[0]?.resource).toMatchObject({
      'service.name': 'tributary-otlp-test',
      'service.version': '9.9.9',
      'deployment.environment': 'test',
      team: 'integration platform',
    });
    expect(resourceSpans[0]?.scopes[0]?.name).toBe('tributary');

    const process = spans().find((s) => s.name === `process ${inbound}`);
    expect(process).toMatchObject({
      traceId: upstream.traceId,
      parentSpanId: upstream.spanId,
      kind: 5, // SPAN_KIND_CONSUMER
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': inbound,
        'messaging.consumer.group.name': group,
        'messaging.operation.type': 'process',
      },
    });
    const send = spans().find((s) => s.name === `send ${outbound}`);
    expect(send).toMatchObject({
      traceId: upstream.traceId,
      parentSpanId: process?.spanId,
      kind: 4, // SPAN_KIND_PRODUCER
      attributes: { 'messaging.destination.name': outbound, 'messaging.batch.message_count': 1 },
    });
    // The follow-up record names the exported PRODUCER span as its parent.
    expect(followUp.parentId).toBe(send?.spanId);
  });
});
