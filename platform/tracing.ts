import {
  type Attributes,
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { setLogCorrelation } from '../core/logger.ts';
import { headerText, type RawHeaders, type RecordPosition } from './records.ts';

/**
 * Trace context (W3C `traceparent`/`tracestate`) through the hub, on the OpenTelemetry API. The
 * one module of the platform that talks to OpenTelemetry; components use these helpers.
 *
 * Propagation is always on: loading the platform installs an AsyncLocalStorage context manager
 * and the W3C propagator, so a consumer runs its handler in the context its record carried and
 * whatever the handler publishes carries the same trace, with or without a tracer provider.
 * Spans are recorded only once `startTracing` (tracing-sdk.ts) registered a provider; before,
 * the API's no-op tracer hands the parent's context through at almost no cost.
 */

/** Span kinds by name, so components need not import OpenTelemetry. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

const kinds: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Most links one batch span carries (a fetch can hold thousands of records). */
const maxLinks = 128;

let installed = false;

/** Installs the context manager and the W3C propagator once (a host that set its own keeps them). */
export function installPropagation(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // Log lines written while a span is active name its trace (pino mixin in core/logger.ts).
  setLogCorrelation(() => {
    const sc = trace.getActiveSpan()?.spanContext();
    return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
  });
}
installPropagation();

/** The hub's tracer; a no-op until a provider is registered. */
export function hubTracer() {
  return trace.getTracer('tributary');
}

const noopProvider = new ProxyTracerProvider().getDelegate();

/** True once some tracer provider is registered (ours from tracing-sdk.ts, or the host's). */
export function spansRecorded(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== noopProvider;
}

/** Header values as text (Kafka headers are bytes; HTTP ones may repeat). */
type HeaderBag = RawHeaders | Record<string, string | string[] | undefined>;

const headerGetter: TextMapGetter<HeaderBag> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const raw = carrier[key] ?? carrier[key.toLowerCase()];
    if (raw === undefined) return undefined;
    const text = (v: Buffer | string) => (typeof v === 'string' ? v : v.toString('utf8'));
    return Array.isArray(raw) ? raw.map(text) : text(raw);
  },
};

/** The trace context carried by Kafka or HTTP headers, on an empty context (ROOT when none). */
export function contextFromHeaders(headers: HeaderBag | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** `traceparent` (and `tracestate`) of `ctx`, the active context by default; empty without a valid span. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const out: Record<string, string> = {};
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return out;
  propagation.inject(ctx, out);
  return out;
}

/** Runs `fn` outside any trace: long-lived loops (a consumer's fetch loop) must not keep the caller's. */
export function outsideTrace<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

/** Trace id of the active span, or undefined outside a trace. */
export function activeTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** Marks the active span failed (a record dead-lettered, a call that failed without throwing). */
export function markActiveSpanFailed(error: unknown): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  recordFailure(span, error);
}

/** Sets attributes on the active span when it records. */
export function annotateActiveSpan(attributes: Attributes): void {
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.setAttributes(attributes);
}

function recordFailure(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (error as { code?: unknown })?.code;
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message.slice(0, 300) });
  span.setAttribute('error.type', typeof code === 'string' ? code : err.name);
}

export interface SpanOptions {
  kind?: SpanKindName;
  attributes?: Attributes;
  /** Parent context; the active one when omitted (see `root`). */
  parent?: Context;
  /** Start a new trace whatever is active (loops that run forever must not hang off start-up). */
  root?: boolean;
  links?: Link[];
}

/**
 * Runs `fn` inside a new span, made active for everything `fn` awaits; ends it when `fn`
 * settles and marks it failed when `fn` throws. The span is a no-op without a provider.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? (options.root ? ROOT_CONTEXT : context.active());
  // Tracing off: no span to make, only the context to pass on (the cheap path of every record).
  if (!spansRecorded()) return context.with(parent, () => fn(trace.getSpan(parent) ?? noSpan));
  const span = hubTracer().startSpan(
    name,
    {
      kind: kinds[options.kind ?? 'internal'],
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links && options.links.length > 0 ? { links: options.links } : {}),
      ...(options.root && !options.parent ? { root: true } : {}),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    if (span.isRecording()) recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

const noSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

const kafkaAttributes = (topic: string, operation: 'send' | 'process'): Attributes => ({
  'messaging.system': 'kafka',
  'messaging.operation.type': operation,
  'messaging.operation.name': operation,
  'messaging.destination.name': topic,
});

/**
 * Runs a send of `count` events to `topic` inside a PRODUCER span and hands `fn` the headers
 * that carry it. Outside a trace there is nothing to continue: no span, no headers (a heartbeat
 * or a login does not start a trace of its own).
 */
export function withSendSpan<T>(
  topic: string,
  count: number,
  fn: (headers: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (activeTraceId() === undefined) return fn({});
  return withSpan(
    `send ${topic}`,
    {
      kind: 'producer',
      attributes: { ...kafkaAttributes(topic, 'send'), 'messaging.batch.message_count': count },
    },
    () => fn(traceHeaders()),
  );
}

/**
 * Runs the handling of one record inside a CONSUMER span whose parent is the context the
 * record carried (a new trace when it carried none), never the consumer's ambient context.
 */
export function withRecordSpan<T>(
  position: RecordPosition,
  headers: RawHeaders | undefined,
  groupId: string,
  fn: () => Promise<T>,
): Promise<T> {
  return withSpan(
    `process ${position.topic}`,
    {
      kind: 'consumer',
      parent: contextFromHeaders(headers),
      attributes: {
        ...kafkaAttributes(position.topic, 'process'),
        'messaging.destination.partition.id': String(position.partition),
        'messaging.kafka.offset': Number(position.offset),
        'messaging.consumer.group.name': groupId,
      },
    },
    fn,
  );
}

/**
 * Runs the handling of one partition's batch inside a CONSUMER span linked to the context of
 * every record (OpenTelemetry messaging conventions for batch processing). When every record
 * belongs to one trace the span joins it as a child of the first record's context, so a flow
 * that happens to arrive alone stays one trace; records of several traces start a new one.
 */
export function withBatchSpan<T>(
  slice: { topic: string; partition: number; firstOffset: string },
  headers: readonly (RawHeaders | undefined)[],
  groupId: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!spansRecorded()) return context.with(sharedTraceContext(headers), fn);
  const carried = headers
    .map((h) => trace.getSpanContext(contextFromHeaders(h)))
    .filter((sc) => sc !== undefined && isSpanContextValid(sc));
  const first = carried[0];
  const oneTrace = first !== undefined && carried.every((sc) => sc?.traceId === first.traceId);
  const links = carried.slice(0, maxLinks).map((sc) => ({ context: sc! }));
  return withSpan(
    `process ${slice.topic}`,
    {
      kind: 'consumer',
      parent: oneTrace ? trace.setSpanContext(ROOT_CONTEXT, first) : ROOT_CONTEXT,
      links,
      attributes: {
        ...kafkaAttributes(slice.topic, 'process'),
        'messaging.destination.partition.id': String(slice.partition),
        'messaging.kafka.offset': Number(slice.firstOffset),
        'messaging.batch.message_count': headers.length,
        'messaging.consumer.group.name': groupId,
      },
    },
    fn,
  );
}

/**
 * Tracing off: the context a batch passes on, that of its records when they all carry one
 * trace (compared on the header text: a full extract per record would be most of the cost).
 */
function sharedTraceContext(headers: readonly (RawHeaders | undefined)[]): Context {
  let first: RawHeaders | undefined;
  let traceId: string | undefined;
  for (const h of headers) {
    const text = headerText(h, 'traceparent');
    if (text === undefined) continue;
    const id = text.slice(3, 35);
    if (traceId === undefined) {
      traceId = id;
      first = h;
    } else if (id !== traceId) return ROOT_CONTEXT;
  }
  return first ? contextFromHeaders(first) : ROOT_CONTEXT;
}
