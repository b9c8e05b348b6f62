/** Replays: reset a consumer group to a point, or copy a range of a topic into another. */
export {
  type CheckpointStore,
  createTopicCheckpointStore,
  REPLAYS_TOPIC,
  type ReplayCheckpoint,
  replayCheckpointSchema,
} from './checkpoint.ts';
export { type EventFilter, eventTypeOf, matchesFilter, parseFilters } from './filter.ts';
export { type GroupResetLine, type GroupResetResult, resetGroupOffsets } from './group-reset.ts';
export { ReplayHeaders, readReplayHeaders, replayIdFor } from './headers.ts';
export { formatPosition, type PositionSpec, parsePosition, resolvePosition } from './positions.ts';
export {
  type ReplayIntoOptions,
  type ReplayProgress,
  type ReplayResult,
  replayInto,
} from './replay-into.ts';
