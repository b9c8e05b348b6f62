import { type HubError, toHubError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { loopSlices } from '../../core/loop-slices.ts';
import {
  type ActionEmitter,
  type DeadLetterWriter,
  type EventProducer,
  type PublishPipeline,
  withSpan,
} from '../../platform/index.ts';
import { type HubEvent, newEnvelope } from '../../schemas/index.ts';
import { backoffWithJitter, sleep } from './backoff.ts';
import { changeEventId } from './event-id.ts';
import type { SourceOffsetStore } from './source-offsets.ts';
import type { SourcePage, SourceRecord, SourceStream } from './source-types.ts';

/** Header on a dead-lettered source record: the system's modification stamp of that version. */
export const SOURCE_STAMP_HEADER = 'tributary.source.stamp';

export interface SourceLoopOptions {
  /** Component name, e.g. `connector.erp`: envelope source, actor and offset-key prefix. */
  connector: string;
  /** System name in event ids, e.g. `erp`. */
  system: string;
  streams: SourceStream[];
  producer: EventProducer;
  offsets: SourceOffsetStore;
  deadLetters: DeadLetterWriter;
  actions: ActionEmitter;
  logger: Logger;
  pollIntervalMs: number;
  /** Backoff of a stream whose sync failed (it restarts by itself); SOURCE_RESTART by default. */
  restart?: { initialDelayMs: number; maxDelayMs: number };
}

/** The default restart backoff of a failed stream (a connector's `restart` setting). */
export const SOURCE_RESTART = { initialDelayMs: 500, maxDelayMs: 30_000 } as const;

export interface StreamStatus {
  published: number;
  deadLettered: number;
  batches: number;
  failures: number;
  lastSyncAt: number | null;
  lastError: string | null;
}

export interface SourceLoop {
  start(): Promise<void>;
  close(): Promise<void>;
  pause(): void;
  resume(): void;
  /** Runs one sync of every stream to the end of its changes (tests and `connectors run --once`). */
  syncOnce(signal?: AbortSignal): Promise<void>;
  status(): { state: string; streams: Record<string, StreamStatus> };
}

/** The source half of a connector: poll, map, validate, publish keyed events, then commit offsets. */
export function createSourceLoop(options: SourceLoopOptions): SourceLoop {
  const { producer, offsets, deadLetters, actions, logger } = options;
  const restart = options.restart ?? SOURCE_RESTART;
  const stats = new Map<string, StreamStatus>(
    options.streams.map((s) => [
      s.name,
      { published: 0, deadLettered: 0, batches: 0, failures: 0, lastSyncAt: null, lastError: null },
    ]),
  );
  const stopping = new AbortController();
  let paused = false;
  let resumed: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let state = 'created';

  const audit = (input: Parameters<ActionEmitter['emit']>[0]) =>
    actions
      .emit(input)
      .catch((err: unknown) => logger.warn({ err, action: input.action }, 'could not emit an action event'));

  const waitWhilePaused = async () => {
    while (paused && !stopping.signal.aborted) await new Promise<void>((r) => (resumed = r));
  };

  const toEvent = (
    stream: SourceStream,
    rec: SourceRecord,
    data: Record<string, unknown>,
    syncId: string,
  ): HubEvent<unknown> => {
    const time = Date.parse(rec.stamp);
    return {
      envelope: newEnvelope({
        id: changeEventId(options.system, stream.name, rec.key, rec.stamp),
        type: stream.eventType,
        source: options.connector,
        subject: rec.key,
        actor: options.connector,
        correlationId: syncId,
        ...(Number.isNaN(time) ? {} : { time }),
      }),
      data,
    };
  };

  interface SubmittedPage {
    good: { rec: SourceRecord; event: HubEvent<unknown> }[];
    bad: { rec: SourceRecord; stage: string; error: HubError }[];
    acked: Promise<unknown>;
  }

  /**
   * Maps one page and queues its events on the stream's publish pipeline; resolves once they
   * are encoded, so the next page is fetched and encoded while this one is sent.
   */
  const submitPage = async (
    pipe: PublishPipeline,
    stream: SourceStream,
    page: SourcePage,
    syncId: string,
  ) => {
    const good: SubmittedPage['good'] = [];
    const bad: SubmittedPage['bad'] = [];
    // The page before may be acknowledged meanwhile: handle it between slices, not after the page.
    const slices = loopSlices();
    for (const rec of page.records) {
      if (slices.due()) await slices.turn();
      try {
        good.push({ rec, event: toEvent(stream, rec, stream.mapping.apply(rec.raw), syncId) });
      } catch (err) {
        bad.push({ rec, stage: 'map', error: toHubError(err, 'MAPPING_FAILED', { subject: rec.key }) });
      }
    }
    // The producer validates every event against its schema before sending any: set aside the
    // one it names and try the rest again.
    for (;;) {
      try {
        const { acked } = await pipe.submit(good.map((g) => g.event));
        return { good, bad, acked } satisfies SubmittedPage;
      } catch (err) {
        const e = toHubError(err, 'KAFKA_SEND');
        const index = e.where.index;
        if (e.retriable || typeof index !== 'number' || !good[index]) throw e;
        const [rejected] = good.splice(index, 1);
        bad.push({ rec: rejected!.rec, stage: 'validate', error: e });
      }
    }
  };

  /** Once a page's events are acknowledged: its bad records to the DLQ, then the cursor. Pages finish in order. */
  const finishPage = async (
    stream: SourceStream,
    page: SourcePage,
    syncId: string,
    submitted: SubmittedPage,
  ) => {
    await submitted.acked;
    const { good, bad } = submitted;
    for (const b of bad) {
      logger.warn(
        { stream: stream.name, key: b.rec.key, code: b.error.code, err: b.error },
        'source record dead-lettered',
      );
      await deadLetters.send({
        record: {
          key: b.rec.key,
          value: Buffer.from(JSON.stringify(b.rec.raw)),
          headers: { [SOURCE_STAMP_HEADER]: b.rec.stamp },
        },
        topic: stream.topic,
        partition: -1,
        offset: '-1',
        stage: b.stage,
        error: b.error,
      });
    }
    await offsets.commit(`${options.connector}/${stream.name}`, page.cursor);
    const s = stats.get(stream.name)!;
    s.published += good.length;
    s.deadLettered += bad.length;
    s.batches += 1;
    // The system answered and the batch is durable: the stream is healthy again from here.
    s.lastError = null;
    await audit({
      action: 'connector.sync.batch',
      actor: options.connector,
      resource: stream.topic,
      outcome: bad.length === 0 ? 'succeeded' : 'failed',
      correlationId: syncId,
      details: {
        stream: stream.name,
        published: good.length,
        deadLettered: bad.length,
        cursor: page.cursor.stamp,
      },
    });
  };

  /**
   * One sync as one trace (a new one in the poll loop, `root`): the system's pages are fetched
   * in it and every batch published in a child span, so its events carry the sync's trace.
   */
  const syncStream = (stream: SourceStream, signal: AbortSignal, root: boolean) => {
    const syncId = crypto.randomUUID();
    const attributes = {
      'tributary.connector': options.connector,
      'tributary.stream': stream.name,
      'tributary.sync.id': syncId,
      'messaging.destination.name': stream.topic,
    };
    return withSpan(`sync ${options.connector}/${stream.name}`, { root, attributes }, async () => {
      const cursor = offsets.get(`${options.connector}/${stream.name}`);
      const pipe = producer.pipeline(stream.topic, { depth: 2 });
      let finished: Promise<void> = Promise.resolve();
      let failure: unknown;
      try {
        for await (const page of stream.read(cursor, signal)) {
          await waitWhilePaused();
          if (signal.aborted || failure !== undefined) break;
          const batch = { attributes: { ...attributes, 'tributary.batch.records': page.records.length } };
          const submitted = await withSpan(`sync.batch ${options.connector}/${stream.name}`, batch, () =>
            submitPage(pipe, stream, page, syncId),
          );
          finished = finished.then(() => finishPage(stream, page, syncId, submitted));
          finished.catch((err: unknown) => {
            failure ??= err;
          });
        }
      } finally {
        // A page that could not be read or encoded still lets the pages before it finish.
        await finished.catch(() => undefined);
      }
      // A page that failed to finish (its cursor not committed) fails the sync.
      await finished;
      if (signal.aborted) return;
      stats.get(stream.name)!.lastSyncAt = Date.now();
    });
  };

  const syncOnce = async (signal: AbortSignal = stopping.signal) => {
    for (const stream of options.streams) await syncStream(stream, signal, false);
  };

  const run = async () => {
    const failures = new Map<string, number>();
    while (!stopping.signal.aborted) {
      let delay = options.pollIntervalMs;
      for (const stream of options.streams) {
        if (stopping.signal.aborted) break;
        try {
          await syncStream(stream, stopping.signal, true);
          failures.set(stream.name, 0);
          stats.get(stream.name)!.lastError = null;
        } catch (err) {
          if (stopping.signal.aborted) break;
          const e = toHubError(err, 'SOURCE_SYNC_FAILED');
          const n = (failures.get(stream.name) ?? 0) + 1;
          failures.set(stream.name, n);
          const s = stats.get(stream.name)!;
          s.failures += 1;
          s.lastError = `${e.code}: ${e.message}`;
          logger.warn(
            { stream: stream.name, attempt: n, code: e.code, err: e },
            'sync failed; it restarts with backoff',
          );
          await audit({
            action: 'connector.sync.failed',
            actor: options.connector,
            resource: stream.topic,
            outcome: 'failed',
            details: { stream: stream.name, code: e.code, message: e.message.slice(0, 500), attempt: n },
          });
          delay = Math.max(delay, backoffWithJitter({ ...restart, retries: 0, maxRetryAfterMs: 0 }, n));
        }
      }
      state = paused ? 'paused' : 'running';
      await sleep(delay, stopping.signal).catch(() => undefined);
    }
  };

  return {
    async start() {
      if (loop) return;
      state = 'running';
      loop = run();
    },
    async close() {
      if (stopping.signal.aborted) return loop;
      stopping.abort();
      resumed?.();
      state = 'stopped';
      await loop;
    },
    pause() {
      paused = true;
      state = 'paused';
    },
    resume() {
      paused = false;
      state = 'running';
      resumed?.();
    },
    syncOnce,
    status: () => ({ state, streams: Object.fromEntries(stats) }),
  };
}
