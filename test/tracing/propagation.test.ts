import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import {
  activeTraceId,
  createDeadLetterWriter,
  createEventConsumer,
  type EventConsumer,
  startTracing,
  tracingConfigFromEnv,
} from '../../platform/index.ts';
import {
  actionEvent,
  createTopics,
  deleteTopics,
  randomName,
  testHub,
  waitUntil,
} from '../platform/support.ts';
import { newTraceparent, parseTraceparent, recordTopics } from './support.ts';

/**
 * With tracing off (no provider registered: the default), trace context still passes through:
 * a handler runs in the context its record carried, what it publishes carries the same
 * traceparent and tracestate, and its log lines name the trace. Also: which OTEL_* settings
 * turn tracing on.
 */

let hub: Awaited<ReturnType<typeof testHub>>;
const consumers: EventConsumer[] = [];
const inbound = randomName('prop-in');
const batchInbound = randomName('prop-batch-in');
const outbound = randomName('prop-out');
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  hub = await testHub();
  await createTopics(hub.kafka, [inbound, batchInbound, outbound], 2);
  const logger = createLogger('propagation-test', {
    destination: new Writable({
      write(chunk, _encoding, done) {
        logLines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    }),
  });
  const forward = async (subject: string, via: string) => {
    logger.info({ subject, via }, 'forwarding');
    await hub.producer.publish(outbound, [actionEvent(subject, `forwarded.${via}`)]);
  };
  const common = {
    kafka: hub.kafka,
    serde: hub.serde,
    deadLetters: createDeadLetterWriter({ producer: hub.producer }),
  };
  consumers.push(
    createEventConsumer({
      ...common,
      groupId: randomName('prop-record'),
      topics: [inbound],
      handler: (event) => forward(event.envelope.subject, 'record'),
    }),
    createEventConsumer({
      ...common,
      groupId: randomName('prop-batch'),
      topics: [batchInbound],
      batchHandler: async (events) => {
        for (const { event } of events) await forward(event.envelope.subject, 'batch');
      },
    }),
  );
  await Promise.all(consumers.map((c) => c.start()));
}, 120_000);

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
  await hub?.close();
  await deleteTopics(hub.kafka, [inbound, batchInbound, outbound, hub.schemaLogTopic]);
});

describe('trace context without a tracer provider', () => {
  it('is passed on by per-record and batch handlers, with tracestate, and names the trace in log lines', async () => {
    expect(activeTraceId()).toBeUndefined();
    const viaRecord = newTraceparent();
    const viaBatch = newTraceparent();
    const reader = await recordTopics(hub.kafka, hub.serde, [outbound]);
    try {
      await hub.producer.publish(inbound, [actionEvent('traced-record')], {
        traceparent: viaRecord.header,
        tracestate: 'vendor=abc',
      });
      await hub.producer.publish(inbound, [actionEvent('untraced')]);
      await hub.producer.publish(batchInbound, [actionEvent('traced-batch')], {
        traceparent: viaBatch.header,
      });
      await waitUntil('three forwarded events', () => reader.records.length === 3);
    } finally {
      await reader.stop();
    }
    const bySubject = new Map(reader.records.map((r) => [r.event.data.resource as string, r]));
    const record = bySubject.get('traced-record');
    // No provider: no span of ours in between, the upstream context itself goes on.
    expect(record?.traceparent).toBe(viaRecord.header);
    expect(record?.tracestate).toBe('vendor=abc');
    expect(parseTraceparent(bySubject.get('traced-batch')?.traceparent).traceId).toBe(viaBatch.traceId);
    // A record that carried no trace starts none.
    expect(bySubject.get('untraced')?.traceparent).toBeUndefined();

    const lineOf = (subject: string) => logLines.find((l) => l.subject === subject);
    expect(lineOf('traced-record')).toMatchObject({ trace_id: viaRecord.traceId, span_id: viaRecord.spanId });
    expect(lineOf('traced-batch')).toMatchObject({ trace_id: viaBatch.traceId });
    expect(lineOf('untraced')).toBeDefined();
    expect(lineOf('untraced')).not.toHaveProperty('trace_id');
  });

  it('stays off unless an exporter is configured, and refuses what it does not have', async () => {
    expect(tracingConfigFromEnv({})).toBeUndefined();
    expect((await startTracing({ env: {} })).enabled).toBe(false);
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({
      exporters: ['otlp'],
      otlpUrl: 'http://collector:4318/v1/traces',
      serviceName: 'tributary',
      sampler: 'parentbased_always_on',
    });
    expect(
      tracingConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
        OTEL_SERVICE_NAME: 'hub-eu',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }),
    ).toMatchObject({ otlpUrl: 'http://traces:4318/custom', serviceName: 'hub-eu', samplerRatio: 0.25 });
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'console' })).toMatchObject({
      exporters: ['console'],
    });
    expect(
      tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(() => tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(HubError);
    expect(() =>
      tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }),
    ).toThrow(/OTEL_TRACES_SAMPLER/);
  });
});
