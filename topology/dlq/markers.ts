import {
  createTopicFollower,
  type EventProducer,
  ensureTopicOnce,
  type KafkaClient,
} from '../../platform/index.ts';

/**
 * Which dead letters were already sent back: one record per redriven dead letter in the
 * compacted topic `_tributary.dlq.redriven`, keyed `<dlq topic>/<partition>/<offset>`. A
 * marker per record (rather than a committed offset per DLQ topic) lets `--where` redrive some
 * records now and others later, and never sends the same dead letter twice.
 */
export const REDRIVEN_TOPIC = '_tributary.dlq.redriven';

/** What a marker records about a redrive. */
export interface RedriveMarker {
  redrivenAt: string;
  actor: string;
  /** Where the record went: source topic, partition and offset of the copy. */
  target: string;
  targetPartition: number;
  targetOffset: string;
}

export interface RedriveMarkers {
  /** Positions (`partition/offset`) of `dlqTopic` already redriven. */
  redriven(dlqTopic: string): Promise<Map<string, RedriveMarker>>;
  /** How many dead letters of each DLQ topic were redriven. */
  counts(): Promise<Map<string, number>>;
  mark(
    dlqTopic: string,
    marks: { partition: number; offset: string; marker: RedriveMarker }[],
  ): Promise<void>;
}

/** The marker store over its compacted topic (created on first use). */
export function createRedriveMarkers(options: {
  kafka: KafkaClient;
  producer: EventProducer;
  topic?: string;
}): RedriveMarkers {
  const topic = options.topic ?? REDRIVEN_TOPIC;
  const ensure = ensureTopicOnce({
    kafka: options.kafka,
    topic,
    partitions: 1,
    configs: { 'cleanup.policy': 'compact' },
  });
  /** Every marker whose key starts with `prefix`, by the rest of its key (latest value wins). */
  async function read(prefix: string): Promise<Map<string, RedriveMarker>> {
    await ensure();
    const found = new Map<string, RedriveMarker>();
    const follower = createTopicFollower({
      kafka: options.kafka,
      topic,
      onRecord: (r) => {
        const key = r.key?.toString('utf8');
        if (!key?.startsWith(prefix)) return;
        if (r.value === null) found.delete(key.slice(prefix.length));
        else found.set(key.slice(prefix.length), JSON.parse(r.value.toString('utf8')) as RedriveMarker);
      },
    });
    try {
      await follower.start();
      await follower.catchUp();
    } finally {
      await follower.close();
    }
    return found;
  }
  return {
    redriven: (dlqTopic) => read(`${dlqTopic}/`),
    async counts() {
      const counts = new Map<string, number>();
      for (const key of (await read('')).keys()) {
        // Keys are `<dlq topic>/<partition>/<offset>`; topic names never contain '/'.
        const dlqTopic = key.slice(0, key.indexOf('/'));
        counts.set(dlqTopic, (counts.get(dlqTopic) ?? 0) + 1);
      }
      return counts;
    },
    async mark(dlqTopic, marks) {
      if (marks.length === 0) return;
      await ensure();
      await options.producer.publishRaw(
        topic,
        marks.map((m) => ({
          key: `${dlqTopic}/${m.partition}/${m.offset}`,
          value: Buffer.from(JSON.stringify(m.marker)),
        })),
      );
    },
  };
}
