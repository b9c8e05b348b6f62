import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaSchemaLog } from '../../platform/schema-log.ts';
import { createEmbeddedRegistry, loadCatalog } from '../../schemas/index.ts';
import { deleteTopics, randomName, testKafka } from './support.ts';

describe('schema log on a compacted topic', () => {
  const kafkaA = testKafka();
  const kafkaB = testKafka();
  const topic = randomName('schema-log');
  const logA = createKafkaSchemaLog({ kafka: kafkaA, topic });
  const logB = createKafkaSchemaLog({ kafka: kafkaB, topic });

  afterAll(async () => {
    await Promise.all([logA.close(), logB.close()]);
    await deleteTopics(kafkaA, [topic]);
  });

  it('creates a compacted single-partition topic and reads back what was appended, in order', async () => {
    await logA.append('k1', Buffer.from('one'));
    await logA.append('k2', Buffer.from('two'));
    await logA.append('k1', Buffer.from('uno'));
    const records = await logB.readAll();
    expect(records.map((r) => [r.key, r.value?.toString()])).toEqual([
      ['k1', 'one'],
      ['k2', 'two'],
      ['k1', 'uno'],
    ]);

    const admin = kafkaA.admin();
    await admin.connect();
    try {
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata?.partitions).toHaveLength(1);
      const configs = await admin.describeConfigs({
        resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      });
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
  });

  it('sees appends made after its first read', async () => {
    await logB.append('k3', Buffer.from('three'));
    const records = await logA.readAll();
    expect(records.at(-1)).toEqual({ key: 'k3', value: Buffer.from('three') });
  });

  it('lets two registries on two Kafka clients agree on schema ids', async () => {
    const catalog = await loadCatalog();
    const schema = catalog.latest('tributary.audit.Action').schema;
    const registryA = createEmbeddedRegistry({ log: logA });
    const registryB = createEmbeddedRegistry({ log: logB });
    const id = await registryA.register('hub.actions-value', schema);
    // B never registered anything: it learns the id from the log alone.
    expect(await registryB.getById(id)).toEqual(await registryA.getById(id));
    expect((await registryB.latest('hub.actions-value'))?.id).toBe(id);
    expect(await registryB.register('hub.actions-value', schema)).toBe(id);
  });
});
