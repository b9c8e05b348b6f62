import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createEventProducer } from '../../platform/producer.ts';
import { createPublishPipeline, type PublishVia } from '../../platform/publish-pipeline.ts';
import type { RawRecord, RecordMetadata } from '../../platform/records.ts';
import type { HubEvent, Serde } from '../../schemas/index.ts';
import { actionEvent, hubWithTopics, randomName, readTopic } from './support.ts';

/** A send whose answers the test releases one by one, recording what reached it. */
function heldSends() {
  const sent: string[][] = [];
  const waiting: { resolve: (m: RecordMetadata[]) => void; reject: (e: Error) => void }[] = [];
  const send = (records: RawRecord[]) =>
    new Promise<RecordMetadata[]>((resolve, reject) => {
      sent.push(records.map((r) => String(r.key)));
      waiting.push({ resolve, reject });
    });
  const answer = (err?: Error) => {
    const next = waiting.shift();
    if (!next) throw new Error('no send is waiting');
    if (err) next.reject(err);
    else next.resolve([{ topic: 't', partition: 0, baseOffset: '0' }]);
  };
  return { sent, send, answer };
}

/** Encodes each event to a record keyed by its subject; a subject of "bad" fails like the serde. */
const encodeThen: PublishVia = async (_topic, events, _options, send) => {
  const index = events.findIndex((e) => e.envelope.subject === 'bad');
  if (index >= 0) throw new HubError('SERDE_INVALID', 'bad event', { where: { index } });
  return send(events.map((e) => ({ key: e.envelope.subject, value: null })));
};

const batch = (...subjects: string[]): HubEvent<unknown>[] => subjects.map((s) => actionEvent(s));
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('publish pipeline (order and failure rules)', () => {
  it('encodes the next batch while one is unacknowledged, sends in submit order, and waits at the depth', async () => {
    const held = heldSends();
    const pipe = createPublishPipeline('t', 2, encodeThen, held.send);
    const a = await pipe.submit(batch('a1', 'a2'));
    const b = await pipe.submit(batch('b1'));
    await tick();
    // b is encoded and queued, but not sent before a is acknowledged.
    expect(held.sent).toEqual([['a1', 'a2']]);
    let cSubmitted = false;
    const c = pipe.submit(batch('c1')).then((s) => {
      cSubmitted = true;
      return s;
    });
    await tick();
    expect(cSubmitted).toBe(false);
    held.answer();
    await a.acked;
    await tick();
    expect(held.sent).toEqual([['a1', 'a2'], ['b1']]);
    expect(cSubmitted).toBe(true);
    held.answer();
    await b.acked;
    await tick();
    held.answer();
    await (await c).acked;
    await pipe.drain();
    expect(held.sent).toEqual([['a1', 'a2'], ['b1'], ['c1']]);
  });

  it('sends nothing after a failed send: queued and later batches fail as aborted, drain names the failure', async () => {
    const held = heldSends();
    const pipe = createPublishPipeline('t', 3, encodeThen, held.send);
    const a = await pipe.submit(batch('a1'));
    const b = await pipe.submit(batch('b1'));
    held.answer(new HubError('KAFKA_SEND', 'broker gone', { retriable: true }));
    await expect(a.acked).rejects.toThrow('broker gone');
    await expect(b.acked).rejects.toMatchObject({ code: 'KAFKA_SEND_ABORTED' });
    await expect(pipe.submit(batch('c1'))).rejects.toMatchObject({ code: 'KAFKA_SEND_ABORTED' });
    await expect(pipe.drain()).rejects.toThrow('broker gone');
    expect(held.sent).toEqual([['a1']]);
  });

  it('rejects an invalid batch at submit with its index and queues nothing; the pipeline goes on', async () => {
    const held = heldSends();
    const pipe = createPublishPipeline('t', 2, encodeThen, held.send);
    await expect(pipe.submit(batch('ok', 'bad'))).rejects.toMatchObject({
      code: 'SERDE_INVALID',
      where: { index: 1 },
    });
    const next = await pipe.submit(batch('ok'));
    held.answer();
    await next.acked;
    expect(held.sent).toEqual([['ok']]);
    expect(() => createPublishPipeline('t', 0, encodeThen, held.send)).toThrow(/depth/);
  });
});

describe('publish pipeline on a real broker', () => {
  const topic = randomName('pipeline');
  const setup = hubWithTopics([topic], 3);

  it('writes every batch of one key in submit order, and refuses an invalid event naming it', async () => {
    const pipe = setup.hub.producer.pipeline(topic, { depth: 3 });
    const ids: string[] = [];
    const acks: Promise<unknown>[] = [];
    for (let b = 0; b < 30; b += 1) {
      const events = Array.from({ length: 20 }, (_, i) => actionEvent('same-key', `step.${b}.${i}`));
      ids.push(...events.map((e) => e.envelope.id));
      acks.push((await pipe.submit(events)).acked);
    }
    const invalid = actionEvent('same-key');
    (invalid.data as Record<string, unknown>).outcome = 'not-an-outcome';
    await expect(pipe.submit([actionEvent('same-key'), invalid])).rejects.toMatchObject({
      where: { index: 1 },
    });
    await Promise.all(acks);
    await pipe.drain();
    const records = await readTopic(setup.hub.kafka, topic);
    expect(records).toHaveLength(600);
    expect(records.map((r) => String(r.headers['tributary.event.id']))).toEqual(ids);
  });

  it("encodes a long batch in slices: what arrives meanwhile (an earlier send's ack) is handled before the batch is done", async () => {
    const { hub } = setup;
    // A serde that takes 50 µs per event: 200 events hold the thread for 10 ms in one piece
    // unless the producer lets the event loop run between slices.
    let encoded = 0;
    const slowed = <T>(value: T): T => {
      const until = performance.now() + 0.05;
      while (performance.now() < until);
      encoded += 1;
      return value;
    };
    const serde: Serde = {
      encode: async (t, name, value) => slowed(await hub.serde.encode(t, name, value)),
      encodeReady: (t, name, value) => {
        const out = hub.serde.encodeReady?.(t, name, value);
        return out === undefined ? undefined : slowed(out);
      },
      decode: (buffer, where) => hub.serde.decode(buffer, where),
    };
    const producer = createEventProducer({ kafka: hub.kafka, serde });
    try {
      await producer.publish(topic, [actionEvent('warm-up')]);
      encoded = 0;
      const events = Array.from({ length: 200 }, (_, i) => actionEvent('sliced', `slice.${i}`));
      let encodedWhenItRan = -1;
      setImmediate(() => {
        encodedWhenItRan = encoded;
      });
      await producer.publish(topic, events);
      expect(encoded).toBe(200);
      expect(encodedWhenItRan).toBeGreaterThanOrEqual(0);
      expect(encodedWhenItRan).toBeLessThan(100);
    } finally {
      await producer.close();
    }
  });
});
