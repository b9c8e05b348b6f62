import type { KafkaClient } from '../../platform/index.ts';
import { readRange } from '../../platform/replay-reader.ts';
import { readReplayHeaders } from './headers.ts';

/**
 * What a replay wrote after its last checkpoint, found in the target itself: every record past
 * the checkpoint's target marks that carries this replay's id. Resuming skips exactly these
 * source offsets, so a crash between a write's acknowledgement and its checkpoint neither
 * duplicates nor loses a record (even when one send reached some brokers and not others).
 */
export async function writtenSinceCheckpoint(options: {
  kafka: KafkaClient;
  replayId: string;
  source: string;
  target: string;
  targetMarks: Record<string, string>;
  targetEnds: { partition: number; high: string }[];
  signal?: AbortSignal;
}): Promise<Map<number, Set<string>>> {
  const seen = new Map<number, Set<string>>();
  await readRange({
    kafka: options.kafka,
    topic: options.target,
    ranges: options.targetEnds.map((e) => ({
      partition: e.partition,
      from: options.targetMarks[String(e.partition)] ?? '0',
      to: e.high,
    })),
    ...(options.signal ? { signal: options.signal } : {}),
    onBatch: async (_partition, records) => {
      for (const r of records) {
        const origin = readReplayHeaders(r.headers);
        if (!origin || origin.id !== options.replayId || origin.topic !== options.source) continue;
        const offsets = seen.get(origin.partition) ?? new Set<string>();
        offsets.add(origin.offset);
        seen.set(origin.partition, offsets);
      }
    },
  });
  return seen;
}
