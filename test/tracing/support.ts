import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { headerText, type KafkaClient, type RawHeaders, startTracing } from '../../platform/index.ts';
import type { Serde } from '../../schemas/index.ts';
import { uniqueName } from '../support/names.ts';

/** Every span the process ends, kept in memory (the SDK's in-memory exporter behind the hub's provider). */
export async function useMemorySpans(): Promise<{ spans(): ReadableSpan[]; stop(): Promise<void> }> {
  const exporter = new InMemorySpanExporter();
  const tracing = await startTracing({ exporter, env: {} });
  if (!tracing.enabled) throw new Error('the tracer provider was not registered');
  return { spans: () => exporter.getFinishedSpans(), stop: () => tracing.shutdown() };
}

/** The parts of a W3C traceparent header. */
export function parseTraceparent(text: string | undefined): {
  traceId: string;
  parentId: string;
  flags: string;
} {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(text ?? '');
  if (!m) throw new Error(`not a traceparent: ${text}`);
  return { traceId: m[1]!, parentId: m[2]!, flags: m[3]! };
}

/** A random sampled traceparent, as an upstream caller would send it. */
export function newTraceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString('hex');
  const traceId = hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

export interface SeenRecord {
  topic: string;
  partition: number;
  offset: string;
  headers: RawHeaders;
  event: {
    envelope: { id: string; type: string; correlationId?: string | null };
    data: Record<string, unknown>;
  };
  traceparent: string | undefined;
  tracestate: string | undefined;
}

/** Reads topics from their beginning into memory with their headers, until `stop()`. */
export async function recordTopics(
  kafka: KafkaClient,
  serde: Serde,
  topics: string[],
): Promise<{ records: SeenRecord[]; stop(): Promise<void> }> {
  const records: SeenRecord[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('trace-reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = (message.headers ?? {}) as RawHeaders;
      const decoded = await serde.decode(message.value!, { topic, partition, offset: message.offset });
      records.push({
        topic,
        partition,
        offset: message.offset,
        headers,
        event: decoded.value as SeenRecord['event'],
        traceparent: headerText(headers, 'traceparent'),
        tracestate: headerText(headers, 'tracestate'),
      });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

/** Span id, parent span id and trace id of a finished span, in plain strings. */
export function ids(span: ReadableSpan): { traceId: string; spanId: string; parentId: string | undefined } {
  const sc = span.spanContext();
  return { traceId: sc.traceId, spanId: sc.spanId, parentId: span.parentSpanContext?.spanId };
}

/** The one span named `name` whose parent is `parent` (throws when there is none or several). */
export function childOf(spans: readonly ReadableSpan[], parent: ReadableSpan, name: string): ReadableSpan {
  const found = spans.filter(
    (s) => s.name === name && s.parentSpanContext?.spanId === parent.spanContext().spanId,
  );
  if (found.length !== 1) {
    const names = spans
      .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
      .map((s) => s.name);
    throw new Error(
      `expected one span ${name} under ${parent.name}, found ${found.length} (children: ${names.join(', ')})`,
    );
  }
  return found[0]!;
}

/** One line per span (name, kind, trace/span <- parent, links), for failure messages. */
export function describeSpans(spans: readonly ReadableSpan[]): string {
  return spans
    .map((s) => {
      const { traceId, spanId, parentId } = ids(s);
      const links = s.links.map((l) => l.context.spanId).join(',');
      return `${s.name} kind=${s.kind} ${traceId}/${spanId} <- ${parentId ?? '-'}${links ? ` links=${links}` : ''}`;
    })
    .join('\n');
}
