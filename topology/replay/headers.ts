import { createHash } from 'node:crypto';
import { headerText, type RawHeaders } from '../../platform/index.ts';

/** Headers a replayed record carries besides its original ones. */
export const ReplayHeaders = {
  originalTopic: 'tributary.replay.original.topic',
  originalPartition: 'tributary.replay.original.partition',
  originalOffset: 'tributary.replay.original.offset',
  id: 'tributary.replay.id',
} as const;

/** Where a replayed record came from, read back from its headers; undefined for other records. */
export function readReplayHeaders(
  headers: RawHeaders | undefined,
): { id: string; topic: string; partition: number; offset: string } | undefined {
  const id = headerText(headers, ReplayHeaders.id);
  const topic = headerText(headers, ReplayHeaders.originalTopic);
  const partition = headerText(headers, ReplayHeaders.originalPartition);
  const offset = headerText(headers, ReplayHeaders.originalOffset);
  if (!id || !topic || partition === undefined || offset === undefined) return undefined;
  return { id, topic, partition: Number(partition), offset };
}

/**
 * The default replay id: a digest of what was asked, so running the same command again after
 * an interruption resumes the same replay instead of starting a second copy.
 */
export function replayIdFor(args: {
  topic: string;
  into: string;
  from: string;
  to: string;
  filter: readonly string[];
}): string {
  const text = JSON.stringify([args.topic, args.into, args.from, args.to, [...args.filter].sort()]);
  return `replay-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
