import { type ErrorLocation, HubError } from '../core/errors.ts';

/**
 * Turns a kafkajs failure into a HubError, keeping kafkajs' own verdict on whether a retry can
 * help (its errors carry `retriable`); anything without a verdict is treated as transient,
 * because a broker that is briefly away is the common cause.
 */
export function fromKafkaError(err: unknown, code: string, where: ErrorLocation = {}): HubError {
  if (err instanceof HubError) return err;
  const retriable = (err as { retriable?: unknown }).retriable;
  const message = err instanceof Error ? err.message : String(err);
  return new HubError(code, message, {
    retriable: typeof retriable === 'boolean' ? retriable : true,
    cause: err,
    where,
    hint: 'check that the brokers are reachable (KAFKA_BROKERS) and the topic exists (tributary topology apply)',
  });
}

/**
 * Broker answers that mean "this topic is still settling" right after a create or while a
 * leader moves: the topic exists or will in a moment, so the caller should ask again.
 */
const settlingErrorTypes = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
]);

/** True for a kafkajs error that only says a new or moving topic is not ready yet. */
export function isTopicSettling(err: unknown): boolean {
  const type = (err as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && settlingErrorTypes.has(type);
}
