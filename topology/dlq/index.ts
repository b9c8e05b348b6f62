/** Dead-letter tools: list DLQ topics, show their records with reasons, redrive fixed ones. */
export { createRedriveMarkers, REDRIVEN_TOPIC, type RedriveMarker, type RedriveMarkers } from './markers.ts';
export {
  type DeadLetterTopicSummary,
  type DeadLetterView,
  DLQ_SUFFIX,
  dlqTopicName,
  listDeadLetterTopics,
  readDeadLetters,
} from './read.ts';
export {
  matchesWhere,
  parseWhere,
  type RedrivenRecord,
  type RedriveResult,
  type RedriveWhere,
  redriveDeadLetters,
} from './redrive.ts';
