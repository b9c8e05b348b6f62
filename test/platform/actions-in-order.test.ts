import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  type ActionEmitter,
  type ActionInput,
  createActionEmitter,
  emitInOrder,
} from '../../platform/index.ts';
import { hubWithTopics, randomName, readTopic } from './support.ts';

/**
 * Breaker actions are emitted from event handlers that do not wait: emitInOrder sends them one
 * after another and tries a retriable failure again, so the topic shows every change in order.
 */
describe('actions emitted in order', () => {
  const topic = randomName('actions-in-order');
  const setup = hubWithTopics([topic], 1);
  const action = (state: string): ActionInput => ({
    action: `connector.breaker.${state}`,
    actor: 'connector.test',
    resource: 'http://system.test',
    outcome: 'failed',
  });

  /** The real emitter, whose first `failures` emits fail after `slowMs` as given. */
  function failingFirst(failures: HubError[], slowMs: number): ActionEmitter {
    const real = createActionEmitter({ producer: setup.hub.producer, source: 'test', topic });
    return {
      async emit(input) {
        const failure = failures.shift();
        if (failure) {
          await new Promise((resolve) => setTimeout(resolve, slowMs));
          throw failure;
        }
        return real.emit(input);
      },
    };
  }

  /** The breaker state and event id of each action on the topic, in topic order. */
  const sent = async () => {
    const actions: { state: string; id: string }[] = [];
    for (const r of await readTopic(setup.hub.kafka, topic)) {
      const decoded = await setup.hub.serde.decode(r.value!, {
        topic,
        partition: r.partition,
        offset: r.offset,
      });
      const { envelope, data } = decoded.value as { envelope: { id: string }; data: { action: string } };
      actions.push({ state: data.action.slice('connector.breaker.'.length), id: envelope.id });
    }
    return actions;
  };
  const sentActions = async () => (await sent()).map((a) => a.state);

  it('keeps call order through a slow retriable failure, and reports only what it gives up', async () => {
    const lost: string[] = [];
    const emit = emitInOrder(
      failingFirst([new HubError('KAFKA_SEND', 'broker away', { retriable: true })], 300),
      { delayMs: 20, onLost: (_err, input) => lost.push(input.action) },
    );
    // As a breaker's handlers call it: without waiting.
    void emit(action('open'));
    void emit(action('half-open'));
    await emit(action('closed'));
    expect(lost).toEqual([]);
    expect(await sentActions()).toEqual(['open', 'half-open', 'closed']);
  });

  it('gives up a failure that is not retriable, or the last try, and goes on with the next', async () => {
    const lost: string[] = [];
    const emit = emitInOrder(
      failingFirst(
        [
          new HubError('SCHEMA_VALIDATION', 'bad action'),
          new HubError('KAFKA_SEND', 'away', { retriable: true }),
          new HubError('KAFKA_SEND', 'away', { retriable: true }),
        ],
        10,
      ),
      { attempts: 2, delayMs: 10, onLost: (_err, input) => lost.push(input.action) },
    );
    void emit(action('gone'));
    void emit(action('open'));
    await emit(action('closed'));
    expect(lost).toEqual(['connector.breaker.gone', 'connector.breaker.open']);
    expect((await sentActions()).slice(-1)).toEqual(['closed']);
  });

  it('sends every try of one action with the same event id, so the audit records it once', async () => {
    const real = createActionEmitter({ producer: setup.hub.producer, source: 'test', topic });
    let lostAnswers = 1;
    // The first try lands on the topic, but its answer is lost: the caller sees a retriable error.
    const answerLost: ActionEmitter = {
      async emit(input) {
        const id = await real.emit(input);
        if (lostAnswers-- > 0) throw new HubError('KAFKA_REQUEST_TIMEOUT', 'no answer', { retriable: true });
        return id;
      },
    };
    const lost: string[] = [];
    const emit = emitInOrder(answerLost, { delayMs: 10, onLost: (_err, input) => lost.push(input.action) });
    const before = (await sent()).length;
    void emit(action('tripped'));
    await emit(action('recovered'));
    const actions = (await sent()).slice(before);
    expect(lost).toEqual([]);
    expect(actions.map((a) => a.state)).toEqual(['tripped', 'tripped', 'recovered']);
    expect(actions[1]!.id).toBe(actions[0]!.id);
    expect(actions[2]!.id).not.toBe(actions[0]!.id);
  });
});
