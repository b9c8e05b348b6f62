import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubAdmin } from '../../platform/admin.ts';
import { applyTopology, planTopology, readActualTopics } from '../../topology/apply.ts';
import { buildTopology } from '../../topology/build.ts';
import { describeTopology, formatTopicTable } from '../../topology/describe.ts';
import { testKafka } from '../support/kafka.ts';
import { brokerAdmin, dropPrefixed, randomPrefix, testDeclarations } from './fixtures.ts';

let admin: HubAdmin;
const prefix = randomPrefix();
const group = `${prefix}group.audit`;

beforeAll(async () => {
  admin = brokerAdmin();
  await admin.start();
});

afterAll(async () => {
  await dropPrefixed(admin, prefix);
  await admin.close();
});

describe('describeTopology on a real broker', { timeout: 90_000 }, () => {
  it('shows partitions, live end offsets and the lag of each consumer group', async () => {
    const topology = buildTopology(testDeclarations(), { prefix, defaults: { partitions: 2 } });
    const actions = `${prefix}hub.actions`;
    // Every topic but hub.actions exists; hub.actions is reported missing until applied.
    const partial = { ...topology, topics: topology.topics.filter((t) => t.name !== actions) };
    await applyTopology(planTopology(partial, await readActualTopics(partial, admin)), admin);

    const before = await describeTopology(topology, admin);
    const missing = before.find((r) => r.name === actions);
    expect(missing).toMatchObject({ exists: false, partitions: 0, endOffset: 0, groups: [] });
    expect(formatTopicTable(before)).toMatch(
      new RegExp(`${actions.replaceAll('.', '\\.')}\\s+missing \\(declared 2\\)`),
    );

    await applyTopology(planTopology(topology, await readActualTopics(topology, admin)), admin);
    const producer = testKafka().kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: actions,
        messages: [
          ...Array.from({ length: 5 }, (_, i) => ({ partition: 0, key: `k${i}`, value: Buffer.from([i]) })),
          ...Array.from({ length: 3 }, (_, i) => ({ partition: 1, key: `j${i}`, value: Buffer.from([i]) })),
        ],
      });
    } finally {
      await producer.disconnect();
    }
    // The group has read 2 of partition 0 and all of partition 1: lag 3.
    await admin.setGroupOffsets(group, actions, [
      { partition: 0, offset: '2' },
      { partition: 1, offset: '3' },
    ]);

    const rows = await describeTopology(topology, admin);
    expect(rows.map((r) => r.name)).toEqual(topology.topics.map((t) => t.name));
    const row = rows.find((r) => r.name === actions);
    expect(row).toMatchObject({ exists: true, partitions: 2, declaredPartitions: 2, endOffset: 8 });
    expect(row?.groups).toEqual([{ groupId: group, lag: 3 }]);
    expect(rows.find((r) => r.name === `${prefix}crm.contact.changed`)).toMatchObject({
      endOffset: 0,
      groups: [],
    });

    const table = formatTopicTable(rows);
    expect(table.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+END OFFSET\s+GROUP\s+LAG$/);
    expect(table).toMatch(
      new RegExp(`${actions.replaceAll('.', '\\.')}\\s+2\\s+8\\s+${group.replaceAll('.', '\\.')}\\s+3`),
    );
  });
});
