import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import {
  createDeadLetterWriter,
  createEventConsumer,
  createTopicFollower,
  deadLetterTopic,
  type RawRecord,
  readDeadLetterHeaders,
} from '../../platform/index.ts';
import {
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
  type SchemaCatalog,
  type Serde,
} from '../../schemas/index.ts';
import { MemorySchemaLog } from '../schemas/support/memory-log.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type Mutator, mutator, runSeed, seededRandom, wireHeader } from './hostile-bytes.ts';
import { actionEvent, createTopics, reliabilityHub, waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * Hostile Avro bytes at the hub's first boundary: the serde decode (10,000 generated inputs,
 * in memory) and the same kinds of bytes on a real topic read by the platform consumer, where
 * every bad record must land in the DLQ with its reason while good records around it are applied.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const seed = runSeed();
const serdeCodes = [
  'SERDE_BAD_MAGIC',
  'SERDE_TRUNCATED',
  'SERDE_CORRUPT',
  'SERDE_UNKNOWN_SCHEMA_ID',
  'SERDE_UNRESOLVABLE',
];

type Kind =
  | 'random'
  | 'random-body'
  | 'truncated'
  | 'flipped'
  | 'wrong-magic'
  | 'unknown-id'
  | 'huge-length'
  | 'empty';
/** Kinds that can never decode; the others may by chance (a flipped byte inside a string). */
const alwaysBad = new Set<Kind>(['random', 'truncated', 'wrong-magic', 'unknown-id', 'empty']);

interface Hostile {
  kind: Kind;
  bytes: Buffer;
}

/** Valid framed records of every schema in the catalog (random values), to mutate. */
async function validSamples(serde: Serde, catalog: SchemaCatalog, topic: string): Promise<Buffer[]> {
  const samples: Buffer[] = [];
  for (const name of catalog.names()) {
    for (let i = 0; i < 3; i++) {
      samples.push(await serde.encode(topic, name, catalog.latest(name).type.random() as never));
    }
  }
  return samples;
}

/**
 * Found by this suite: a record whose array or map block count is huge (~2^31, a spliced varint
 * or a flipped continuation bit) made avsc loop for seconds inside the serde's decode, blocking
 * the event loop. schemas/src/avsc-guards.ts now stops at the end of the buffer; these kinds run
 * by default (RELIABILITY_HUGE_COUNTS=0 leaves them out).
 */
const hugeCounts = process.env.RELIABILITY_HUGE_COUNTS !== '0';
const defaultKinds: Kind[] = ['random', 'random-body', 'truncated', 'flipped', 'wrong-magic', 'unknown-id'];

function hostile(
  m: Mutator,
  samples: Buffer[],
  knownIds: Set<number>,
  kinds: Kind[] = defaultKinds,
): Hostile {
  const valid = m.pick(samples);
  const knownId = valid.readUInt32BE(1);
  const kind = m.int(200) === 0 ? 'empty' : m.pick(kinds);
  switch (kind) {
    case 'empty':
      return { kind, bytes: Buffer.alloc(0) };
    case 'random': {
      // Never a known header by chance: a random id is re-drawn until unknown.
      const bytes = m.bytes(m.int(300));
      if (bytes.length >= 5 && bytes[0] === 0)
        while (knownIds.has(bytes.readUInt32BE(1))) bytes.writeUInt32BE(m.int(2 ** 32), 1);
      return { kind, bytes };
    }
    case 'random-body':
      return { kind, bytes: Buffer.concat([wireHeader(knownId), m.bytes(m.int(400))]) };
    case 'truncated':
      return { kind, bytes: m.truncate(valid) };
    case 'flipped':
      return { kind, bytes: m.flip(valid, 5, !hugeCounts) };
    case 'wrong-magic':
      return { kind, bytes: Buffer.concat([wireHeader(knownId, 1 + m.int(255)), valid.subarray(5)]) };
    case 'unknown-id': {
      let id = m.int(2 ** 32);
      while (knownIds.has(id)) id = m.int(2 ** 32);
      return { kind, bytes: Buffer.concat([wireHeader(id), valid.subarray(5)]) };
    }
    case 'huge-length':
      return { kind, bytes: m.hugeLength(valid, 5) };
  }
}

/** Decodes; a HubError of a serde code is the only acceptable failure. */
async function decodeOutcome(serde: Serde, input: Hostile, offset: number): Promise<'decoded' | string> {
  const where = { topic: 'hostile', partition: 0, offset: String(offset) };
  try {
    await serde.decode(input.bytes, where);
    return 'decoded';
  } catch (err) {
    if (!(err instanceof HubError)) {
      throw new Error(
        `${input.kind} input #${offset} (seed ${seed}) threw a ${(err as Error)?.constructor?.name}: ${String(err)}`,
      );
    }
    if (!serdeCodes.includes(err.code) || err.retriable || err.where.offset !== String(offset)) {
      throw new Error(
        `${input.kind} input #${offset} (seed ${seed}): unexpected ${err.code} retriable=${err.retriable} ${err.message}`,
      );
    }
    return err.code;
  }
}

describe(`hostile Avro bytes (seed ${seed})`, () => {
  let catalog: SchemaCatalog;
  let serde: Serde;
  let samples: Buffer[];
  let knownIds: Set<number>;

  beforeAll(async () => {
    catalog = await loadCatalog();
    serde = createSerde({ registry: createEmbeddedRegistry({ log: new MemorySchemaLog() }), catalog });
    samples = await validSamples(serde, catalog, 'hostile');
    knownIds = new Set(samples.map((s) => s.readUInt32BE(1)));
  });

  it('10,000 bad inputs into the serde decode: each a typed, non-retriable HubError (or a valid decode), no crash, no hang', async () => {
    const m = mutator(seededRandom(seed));
    const outcomes = new Map<string, number>();
    const byKind = new Map<Kind, number>();
    const INPUTS = 10_000;
    for (let i = 0; i < INPUTS; i++) {
      const input = hostile(m, samples, knownIds);
      const outcome = await decodeOutcome(serde, input, i);
      if (outcome === 'decoded' && alwaysBad.has(input.kind)) {
        throw new Error(`${input.kind} input #${i} (seed ${seed}) decoded: ${input.bytes.toString('hex')}`);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      byKind.set(input.kind, (byKind.get(input.kind) ?? 0) + 1);
    }
    // Still a working decoder afterwards.
    for (const valid of samples) await serde.decode(valid, { topic: 'hostile', partition: 0, offset: '0' });
    tally.add(
      { inputsTried: INPUTS },
      `serde decode: ${INPUTS} inputs (${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}) -> ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    expect(outcomes.get('SERDE_BAD_MAGIC')).toBeGreaterThan(0);
    expect(outcomes.get('SERDE_TRUNCATED')).toBeGreaterThan(0);
    expect(outcomes.get('SERDE_CORRUPT')).toBeGreaterThan(0);
    expect(outcomes.get('SERDE_UNKNOWN_SCHEMA_ID')).toBeGreaterThan(0);
  });

  const hugeTitle = 'records announcing huge array/map counts are rejected without blocking the decoder';
  it.skipIf(!hugeCounts)(
    hugeCounts ? hugeTitle : `${hugeTitle} (skipped: RELIABILITY_HUGE_COUNTS=0)`,
    { timeout: 60_000 },
    async () => {
      const m = mutator(seededRandom(seed + 2));
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 1_000; i++) {
        const outcome = await decodeOutcome(
          serde,
          hostile(m, samples, knownIds, ['huge-length', 'flipped']),
          i,
        );
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      tally.add(
        { inputsTried: 1_000 },
        `huge counts: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`,
      );
    },
  );

  describe('on a real topic through the platform consumer', () => {
    let hub: Awaited<ReturnType<typeof reliabilityHub>>;
    const topic = uniqueName('rel.hostile.events');

    beforeAll(async () => {
      hub = await reliabilityHub(testKafka().brokers);
      await createTopics(hub.kafka, [topic, deadLetterTopic(topic)], 3);
    });
    afterAll(async () => {
      await hub?.close();
      const admin = hub.kafka.admin();
      await admin.connect();
      await admin
        .deleteTopics({ topics: [topic, deadLetterTopic(topic), hub.schemaLogTopic] })
        .catch(() => {});
      await admin.disconnect();
    });

    it('2,000 records, 1,500 of them bad: every bad one in the DLQ with its reason, every good one applied once, the consumer keeps running', {
      timeout: 90_000,
    }, async () => {
      const m = mutator(seededRandom(seed + 1));
      const GOOD = 500;
      const BAD = 1_500;
      // Samples registered through this hub's registry, so good records decode on the consumer side.
      const goodEvents = Array.from({ length: GOOD }, (_, i) => actionEvent(i, 'hostile'));
      const goodBytes: Buffer[] = [];
      for (const e of goodEvents) goodBytes.push(await hub.serde.encode(topic, e.envelope.type, e));
      const hubSamples = [...goodBytes.slice(0, 20), ...(await validSamples(hub.serde, catalog, topic))];
      const hubIds = new Set(hubSamples.map((s) => s.readUInt32BE(1)));
      const records: RawRecord[] = [];
      const badKinds = new Map<string, number>();
      let g = 0;
      for (let i = 0; i < GOOD + BAD; i++) {
        const wantGood = g < GOOD && m.int(GOOD + BAD - i) < GOOD - g;
        if (wantGood) {
          records.push({ key: `good-${g}`, value: goodBytes[g]!, headers: {} });
          g++;
          continue;
        }
        let input = hostile(m, hubSamples, hubIds);
        // Keep only inputs that cannot decode, so the expected DLQ count is exact.
        while (!alwaysBad.has(input.kind)) input = hostile(m, hubSamples, hubIds);
        const tombstone = m.int(100) === 0;
        badKinds.set(
          tombstone ? 'tombstone' : input.kind,
          (badKinds.get(tombstone ? 'tombstone' : input.kind) ?? 0) + 1,
        );
        records.push({ key: `bad-${i}`, value: tombstone ? null : input.bytes, headers: {} });
      }
      for (let i = 0; i < records.length; i += 200)
        await hub.producer.publishRaw(topic, records.slice(i, i + 200));

      const applied = new Map<string, number>();
      const consumer = createEventConsumer({
        kafka: hub.kafka,
        serde: hub.serde,
        groupId: uniqueName('rel-hostile'),
        topics: [topic],
        deadLetters: createDeadLetterWriter({ producer: hub.producer }),
        concurrency: 3,
        async handler(event) {
          applied.set(event.envelope.id, (applied.get(event.envelope.id) ?? 0) + 1);
        },
      });
      await consumer.start();
      try {
        await waitUntil(
          () => `all records handled (${JSON.stringify(consumer.status())})`,
          () => consumer.status().processed + consumer.status().deadLettered >= GOOD + BAD,
          75_000,
        );
        expect(consumer.status()).toMatchObject({ running: true, processed: GOOD, deadLettered: BAD });
      } finally {
        await consumer.close();
      }
      expect([...applied.values()].every((n) => n === 1)).toBe(true);
      expect(goodEvents.filter((e) => !applied.has(e.envelope.id))).toEqual([]);

      // Every dead letter says where it came from and why.
      const letters: ReturnType<typeof readDeadLetterHeaders>[] = [];
      const follower = createTopicFollower({
        kafka: hub.kafka,
        topic: deadLetterTopic(topic),
        onRecord: (r) => letters.push(readDeadLetterHeaders(r.headers)),
      });
      await follower.start();
      await follower.catchUp(30_000);
      await follower.close();
      expect(letters).toHaveLength(BAD);
      for (const info of letters) {
        expect(info?.stage).toBe('decode');
        expect(serdeCodes.includes(info!.errorCode) || info!.errorCode === 'SCHEMA_DECODE').toBe(true);
        expect(info?.errorMessage.length).toBeGreaterThan(0);
        expect(info?.originalTopic).toBe(topic);
      }
      const origins = new Set(letters.map((l) => `${l?.originalPartition}@${l?.originalOffset}`));
      expect(origins.size).toBe(BAD);
      tally.add(
        { inputsTried: BAD, eventsChecked: GOOD, eventsLost: GOOD - applied.size },
        `real topic: ${BAD} bad records (${[...badKinds].map(([k, n]) => `${k} ${n}`).join(', ')}) all dead-lettered with reasons; ${GOOD} good records interleaved, all applied once`,
      );
    });
  });
});
