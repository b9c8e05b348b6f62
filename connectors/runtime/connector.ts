import { z } from 'zod';
import type { Component, ComponentDeps } from '../../platform/declaration.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createDeadLetterWriter,
  emitInOrder,
  type HubContext,
} from '../../platform/index.ts';
import type { HttpClient } from './http-client.ts';
import { createSinkLoop, type SinkCommand, type SinkLoop } from './sink-loop.ts';
import { createSourceLoop, SOURCE_RESTART, type SourceLoop } from './source-loop.ts';
import { createSourceOffsetStore, SOURCE_OFFSETS_TOPIC, type SourceOffsetStore } from './source-offsets.ts';
import type { SourceStream } from './source-types.ts';

/** Settings every connector shares (each connector adds its system's). */
export const connectorRuntimeSchema = z.object({
  source: z.boolean().default(true).describe('Poll the system and publish change events'),
  sink: z.boolean().default(true).describe('Consume command topics and push them to the system'),
  pollIntervalMs: z.number().int().positive().default(5_000).describe('Pause between two syncs of a stream'),
  pageSize: z.number().int().positive().max(5_000).default(500).describe('Records asked for per request'),
  topicPrefix: z.string().default('').describe('Prefix of every topic name (isolates tests and tenants)'),
  offsetsTopic: z.string().default(SOURCE_OFFSETS_TOPIC).describe('Compacted topic of source offsets'),
  groupId: z.string().optional().describe('Consumer group of the sink; the component name by default'),
  sinkRetries: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe('Retries of a transient push failure before the DLQ'),
  restart: z
    .object({
      initialDelayMs: z
        .number()
        .int()
        .positive()
        .default(SOURCE_RESTART.initialDelayMs)
        .describe('Wait before a stream whose sync failed syncs again'),
      maxDelayMs: z
        .number()
        .int()
        .positive()
        .default(SOURCE_RESTART.maxDelayMs)
        .describe('Longest such wait (it doubles per failure in a row, with jitter)'),
    })
    .refine((r) => r.maxDelayMs >= r.initialDelayMs, {
      message: 'restart.maxDelayMs must be at least restart.initialDelayMs',
      path: ['maxDelayMs'],
    })
    .default({ ...SOURCE_RESTART })
    .describe('Backoff of a source stream whose sync failed (it restarts by itself)'),
});

export type ConnectorRuntimeConfig = z.infer<typeof connectorRuntimeSchema>;

export interface ConnectorParts {
  /** Component name, e.g. `connector.erp`. */
  name: string;
  /** System name used in event ids, e.g. `erp`. */
  system: string;
  http: HttpClient;
  streams: SourceStream[];
  commands: SinkCommand[];
}

export interface RunningConnector extends Component {
  readonly source: SourceLoop | undefined;
  readonly sink: SinkLoop | undefined;
  readonly offsets: SourceOffsetStore;
  pause(): void;
  resume(): void;
  status(): Record<string, unknown>;
}

/** The hub context a connector works with. */
export function hubContextOf(deps: ComponentDeps): HubContext {
  return deps.hub;
}

/** Wires a connector's streams and commands to Kafka: offsets, source loop, sink loop, actions, DLQ. */
export function assembleConnector(
  parts: ConnectorParts,
  config: ConnectorRuntimeConfig,
  deps: ComponentDeps,
): RunningConnector {
  const hub = hubContextOf(deps);
  const logger = deps.logger.child({ connector: parts.name });
  const actions = createActionEmitter({
    producer: hub.producer,
    source: parts.name,
    topic: topicName(config, ACTIONS_TOPIC),
  });
  const deadLetters = createDeadLetterWriter({ producer: hub.producer });
  // Every breaker change is an audit action: when a system failed and when it came back.
  const breakerActions = [
    ['open', 'open', 'failed'],
    ['halfOpen', 'half-open', 'succeeded'],
    ['close', 'closed', 'succeeded'],
  ] as const;
  // In the order the breaker changed, a retriable failure tried again: the audit shows each change.
  const emitBreakerAction = emitInOrder(actions, {
    onLost: (err, input) => logger.warn({ err, action: input.action }, 'could not emit a breaker action'),
  });
  for (const endpoint of parts.http.pool.endpoints) {
    for (const [event, state, outcome] of breakerActions) {
      endpoint.breaker.on(event as 'open', () => {
        void emitBreakerAction({
          action: `connector.breaker.${state}`,
          actor: parts.name,
          resource: endpoint.url,
          outcome,
        });
      });
    }
  }
  const offsets = createSourceOffsetStore({
    kafka: hub.kafka,
    producer: hub.producer,
    topic: config.offsetsTopic,
    logger,
  });
  const source = config.source
    ? createSourceLoop({
        connector: parts.name,
        system: parts.system,
        streams: parts.streams,
        producer: hub.producer,
        offsets,
        deadLetters,
        actions,
        logger,
        pollIntervalMs: config.pollIntervalMs,
        restart: config.restart,
      })
    : undefined;
  const sink =
    config.sink && parts.commands.length > 0
      ? createSinkLoop({
          connector: parts.name,
          commands: parts.commands,
          kafka: hub.kafka,
          serde: hub.serde,
          producer: hub.producer,
          deadLetters,
          actions,
          logger,
          groupId: config.groupId ?? parts.name,
          retry: { retries: config.sinkRetries },
          whenAvailable: (signal) => parts.http.pool.whenAvailable(signal),
        })
      : undefined;
  let closed: Promise<void> | undefined;
  return {
    source,
    sink,
    offsets,
    async start() {
      parts.http.start();
      await offsets.start();
      await source?.start();
      await sink?.start();
    },
    close() {
      closed ??= (async () => {
        await Promise.allSettled([source?.close(), sink?.close()]);
        parts.http.close();
        await offsets.close();
      })();
      return closed;
    },
    pause() {
      source?.pause();
      sink?.pause();
    },
    resume() {
      source?.resume();
      sink?.resume();
    },
    status: () => ({
      name: parts.name,
      source: source?.status() ?? null,
      sink: sink?.status() ?? null,
      endpoints: parts.http.pool.endpoints.map((e) => ({
        url: e.url,
        healthy: e.healthy,
        breaker: e.state(),
        inFlight: e.inFlight,
      })),
      offsets: offsets.list(`${parts.name}/`),
    }),
  };
}

/** Applies the topic prefix of the config to a canonical topic name. */
export function topicName(config: Pick<ConnectorRuntimeConfig, 'topicPrefix'>, name: string): string {
  return `${config.topicPrefix}${name}`;
}
