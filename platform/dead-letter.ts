import { HubError } from '../core/errors.ts';
import type { EventProducer } from './producer.ts';
import { headerText, type RawHeaders, type RawRecord, type RecordMetadata } from './records.ts';

/** Headers every dead letter carries; a redrive reads them back with `readDeadLetterHeaders`. */
export const DeadLetterHeaders = {
  stage: 'tributary.dlq.stage',
  errorCode: 'tributary.dlq.error.code',
  errorMessage: 'tributary.dlq.error.message',
  originalTopic: 'tributary.dlq.original.topic',
  originalPartition: 'tributary.dlq.original.partition',
  originalOffset: 'tributary.dlq.original.offset',
  time: 'tributary.dlq.time',
} as const;

/** Where in the pipeline the record failed: `decode`, `handle`, `map`, `validate`, `push`, ... */
export type DeadLetterStage = string;

export interface DeadLetter {
  /** The original record; its key, value and headers are written back unchanged. */
  record: RawRecord;
  topic: string;
  partition: number;
  offset: string;
  stage: DeadLetterStage;
  error: HubError;
}

/** What a dead letter's headers say about why and where it failed. */
export interface DeadLetterInfo {
  stage: string;
  errorCode: string;
  errorMessage: string;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  /** ISO-8601 time the record was dead-lettered. */
  time: string;
}

export interface DeadLetterWriter {
  send(letter: DeadLetter): Promise<RecordMetadata[]>;
}

/** The dead-letter topic of a topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

// Header values are bounded so that a huge error message cannot make the record too large.
const maxMessageLength = 2000;

/** Creates the writer that sends records that can never succeed to `<topic>.dlq`. */
export function createDeadLetterWriter(options: {
  producer: EventProducer;
  clock?: () => number;
}): DeadLetterWriter {
  const clock = options.clock ?? Date.now;
  return {
    send(letter) {
      const { record, error } = letter;
      const headers: RawHeaders = {
        ...withoutDeadLetterHeaders(record.headers),
        [DeadLetterHeaders.stage]: letter.stage,
        [DeadLetterHeaders.errorCode]: error.code,
        [DeadLetterHeaders.errorMessage]: error.describe().slice(0, maxMessageLength),
        [DeadLetterHeaders.originalTopic]: letter.topic,
        [DeadLetterHeaders.originalPartition]: String(letter.partition),
        [DeadLetterHeaders.originalOffset]: letter.offset,
        [DeadLetterHeaders.time]: new Date(clock()).toISOString(),
      };
      return options.producer.publishRaw(deadLetterTopic(letter.topic), [
        {
          key: record.key,
          value: record.value,
          headers,
          ...(record.timestamp ? { timestamp: record.timestamp } : {}),
        },
      ]);
    },
  };
}

/** Parses the DLQ headers of a record; undefined when it is not a dead letter. */
export function readDeadLetterHeaders(headers: RawHeaders | undefined): DeadLetterInfo | undefined {
  const stage = headerText(headers, DeadLetterHeaders.stage);
  const originalTopic = headerText(headers, DeadLetterHeaders.originalTopic);
  if (stage === undefined || originalTopic === undefined) return undefined;
  return {
    stage,
    errorCode: headerText(headers, DeadLetterHeaders.errorCode) ?? '',
    errorMessage: headerText(headers, DeadLetterHeaders.errorMessage) ?? '',
    originalTopic,
    originalPartition: Number(headerText(headers, DeadLetterHeaders.originalPartition) ?? '-1'),
    originalOffset: headerText(headers, DeadLetterHeaders.originalOffset) ?? '-1',
    time: headerText(headers, DeadLetterHeaders.time) ?? '',
  };
}

/** The record's headers without any DLQ context: what a redrive sends back to the source topic. */
export function withoutDeadLetterHeaders(headers: RawHeaders | undefined): RawHeaders {
  const names = new Set<string>(Object.values(DeadLetterHeaders));
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !names.has(name)));
}

/** Headers a redrive adds, so a record that keeps failing can be recognised and bounded. */
export const RedriveHeaders = {
  count: 'tributary.redrive.count',
  from: 'tributary.redrive.from',
} as const;

/**
 * The record a redrive sends back to its source topic: the original key and value bytes, its
 * original headers without the DLQ context, and a redrive count and origin.
 */
export function redriveRecord(
  letter: { key: Buffer | string | null; value: Buffer | null; headers?: RawHeaders },
  from?: { topic: string; partition: number; offset: string },
): { topic: string; record: RawRecord } {
  const info = readDeadLetterHeaders(letter.headers);
  if (!info) {
    throw new HubError(
      'DLQ_NOT_A_DEAD_LETTER',
      'record has no dead-letter headers, so its source topic is unknown',
      {
        ...(from ? { where: { ...from } } : {}),
        hint: 'only records written by the DLQ writer can be redriven',
      },
    );
  }
  const previous = Number(headerText(letter.headers, RedriveHeaders.count) ?? '0');
  const headers: RawHeaders = {
    ...withoutDeadLetterHeaders(letter.headers),
    [RedriveHeaders.count]: String(Number.isFinite(previous) ? previous + 1 : 1),
    ...(from ? { [RedriveHeaders.from]: `${from.topic}/${from.partition}/${from.offset}` } : {}),
  };
  return { topic: info.originalTopic, record: { key: letter.key, value: letter.value, headers } };
}
