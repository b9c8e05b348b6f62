import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { fromKafkaError, isTopicSettling } from '../../platform/kafka-errors.ts';

describe('kafka errors', () => {
  it('treats the answers of a new or moving topic as settling, and nothing else', () => {
    for (const type of ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']) {
      expect(isTopicSettling(Object.assign(new Error(type), { type }))).toBe(true);
    }
    for (const err of [
      Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' }),
      new Error('plain'),
      undefined,
      'text',
    ]) {
      expect(isTopicSettling(err)).toBe(false);
    }
  });

  it('keeps kafkajs verdict on retrying and treats an unknown failure as transient', () => {
    const permanent = fromKafkaError(Object.assign(new Error('too large'), { retriable: false }), 'X', {
      topic: 't',
    });
    expect(permanent).toBeInstanceOf(HubError);
    expect(permanent.retriable).toBe(false);
    expect(permanent.where.topic).toBe('t');
    expect(fromKafkaError(new Error('socket closed'), 'X').retriable).toBe(true);
  });
});
