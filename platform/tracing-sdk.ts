import { DiagLogLevel, diag, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { HubError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { installPropagation } from './tracing.ts';

/**
 * The OpenTelemetry SDK of a hub process: a tracer provider with the exporters the standard
 * OTEL_* variables name. Off by default: nothing is loaded or recorded unless an exporter is
 * configured (OTEL_TRACES_EXPORTER, or an OTLP endpoint); trace context still passes through
 * Kafka either way (tracing.ts). Only OTLP over HTTP/protobuf is spoken; the exporter itself
 * also reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION and the certificate variables.
 */

export type TraceExporterName = 'otlp' | 'console';

export interface TracingConfig {
  exporters: TraceExporterName[];
  serviceName: string;
  /** Full URL of the OTLP traces endpoint; the exporter's default (localhost:4318) when unset. */
  otlpUrl?: string;
  sampler: string;
  samplerRatio: number;
  resourceAttributes: Record<string, string>;
}

const samplers = new Set([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);

/** Reads the OTEL_* variables; undefined when tracing is off (the default). */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const named = env.OTEL_TRACES_EXPORTER?.trim() || (endpoint || tracesEndpoint ? 'otlp' : 'none');
  const exporters = [...new Set(named.split(',').map((e) => e.trim().toLowerCase()))].filter(
    (e) => e !== 'none',
  );
  for (const e of exporters) {
    if (e !== 'otlp' && e !== 'console') {
      throw new HubError('CONFIG_INVALID', `OTEL_TRACES_EXPORTER names ${e}, which the hub does not have`, {
        hint: 'use otlp, console or none',
      });
    }
  }
  if (exporters.length === 0) return undefined;
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  if (!samplers.has(sampler)) {
    throw new HubError('CONFIG_INVALID', `OTEL_TRACES_SAMPLER ${sampler} is not supported`, {
      hint: [...samplers].join(', '),
    });
  }
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const otlpUrl = tracesEndpoint || (endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  return {
    exporters: exporters as TraceExporterName[],
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'tributary',
    ...(otlpUrl ? { otlpUrl } : {}),
    sampler,
    samplerRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    resourceAttributes: parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
  };
}

/** `key=value,key2=value2` with percent-encoded values (the OTEL_RESOURCE_ATTRIBUTES format). */
function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed pair is skipped, as the specification asks.
    }
  }
  return out;
}

export interface TracingOptions {
  env?: NodeJS.ProcessEnv;
  serviceVersion?: string;
  /** service.instance.id of the spans (the hub instance id). */
  instanceId?: string;
  logger?: Logger;
  /** Export here instead (tests: an in-memory exporter), each span as it ends. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  forceFlush(): Promise<void>;
  /** Exports what is queued and unregisters the provider. Idempotent. */
  shutdown(): Promise<void>;
}

const off: Tracing = { enabled: false, forceFlush: async () => {}, shutdown: async () => {} };

/** What a provider is built from when only a test exporter is given. */
const exporterOnly: TracingConfig = {
  exporters: [],
  serviceName: 'tributary',
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  resourceAttributes: {},
};

type Sdk = typeof import('@opentelemetry/sdk-trace');

function samplerOf(sdk: Sdk, config: TracingConfig) {
  const root = (name: string) =>
    name.endsWith('always_off')
      ? new sdk.AlwaysOffSampler()
      : name.endsWith('traceidratio')
        ? new sdk.TraceIdRatioBasedSampler(config.samplerRatio)
        : new sdk.AlwaysOnSampler();
  return config.sampler.startsWith('parentbased_')
    ? new sdk.ParentBasedSampler({ root: root(config.sampler) })
    : root(config.sampler);
}

async function buildProvider(config: TracingConfig, options: TracingOptions) {
  const sdk = await import('@opentelemetry/sdk-trace');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const processors = [];
  if (options.exporter) processors.push(new sdk.SimpleSpanProcessor({ exporter: options.exporter }));
  if (config.exporters.includes('console'))
    processors.push(new sdk.SimpleSpanProcessor({ exporter: new sdk.ConsoleSpanExporter() }));
  if (config.exporters.includes('otlp')) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const exporter = new OTLPTraceExporter(config.otlpUrl ? { url: config.otlpUrl } : {});
    processors.push(new sdk.BatchSpanProcessor({ exporter }));
  }
  return new sdk.TracerProvider({
    resource: resourceFromAttributes({
      ...config.resourceAttributes,
      'service.name': config.serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      ...(options.instanceId ? { 'service.instance.id': options.instanceId } : {}),
    }),
    sampler: samplerOf(sdk, config),
    spanProcessors: processors,
  });
}

/**
 * Registers the process's tracer provider when tracing is configured (see the file comment).
 * The SDK is loaded only then, so a hub without tracing pays nothing for it.
 */
export async function startTracing(options: TracingOptions = {}): Promise<Tracing> {
  installPropagation();
  const logger = options.logger ?? silentLogger();
  const fromEnv = tracingConfigFromEnv(options.env ?? process.env);
  if (!fromEnv && !options.exporter) return off;
  const config = fromEnv ?? exporterOnly;
  const provider = await buildProvider(config, options);
  if (!trace.setGlobalTracerProvider(provider)) {
    logger.warn('a tracer provider was already registered in this process; the hub uses it');
    await provider.shutdown();
    return off;
  }
  // Export failures (collector down) are the operator's business: say so in the hub's log.
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn({ args }, `tracing: ${message}`),
      warn: (message, ...args) => logger.warn({ args }, `tracing: ${message}`),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  logger.info(
    {
      exporters: config.exporters,
      url: config.otlpUrl,
      sampler: config.sampler,
      service: config.serviceName,
    },
    'tracing on',
  );
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        await provider.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing shutdown failed'));
        trace.disable();
        diag.disable();
      })();
      return stopped;
    },
  };
}
