import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditConsumer } from '../../audit/consumer.ts';
import { decryptEntry } from '../../audit/decrypt.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import type { AuditStore } from '../../audit/store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { newEnvelope } from '../../schemas/index.ts';
import { uniqueName } from '../support/names.ts';
import { actionEvent, auditTestHub, offsets, readChains, waitFor } from './kafka-support.ts';
import { makeKeys, tempDir } from './support.ts';

let t: Awaited<ReturnType<typeof auditTestHub>>;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  t = await auditTestHub(1);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await t?.close();
  await cleanup?.();
});

describe('audit consumer: records that are not actions', () => {
  it('an event of another type and bytes that are not Avro are each recorded in place, content encrypted', async () => {
    const { keys } = makeKeys();
    const topic = await t.newTopic(1);
    const auditDir = join(dir, 'foreign');
    const cancelled = {
      envelope: newEnvelope({
        type: 'tributary.mcp.ToolCancelled',
        source: 'mcp-bridge',
        subject: 'x',
        actor: 'erin',
      }),
      data: {
        tool: 'image.analyze',
        commandTopic: 'media.image.analyze.req',
        commandEventId: randomUUID(),
        reason: 'timeout',
        message: null,
      },
    };
    await t.hub.producer.publish(topic, [actionEvent(1), cancelled]);
    await t.hub.producer.publishRaw(topic, [{ key: 'k', value: Buffer.from('not avro at all') }]);
    await t.hub.producer.publish(topic, [actionEvent(2)]);

    const consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId: uniqueName('audit-g') },
      { kafka: t.kafka, serde: t.hub.serde, keys },
    );
    await consumer.start();
    await waitFor('4 recorded', () => consumer.status().recorded === 4);
    await consumer.close();

    const entries = (await readChains(auditDir)).get('0')!;
    expect(entries.map((e) => [e.source.offset, e.action])).toEqual([
      ['0', 'mcp.tool.call'],
      ['1', 'audit.record.undecodable'],
      ['2', 'audit.record.undecodable'],
      ['3', 'connector.sync.batch'],
    ]);
    const subjectKeys = await openSubjectKeyFile(join(auditDir, 'subject-keys.json'), keys);
    const bodies = entries.map((e) => decryptEntry('0', e, keys, subjectKeys));
    const details = bodies.map((b) => ('body' in b ? b.body.details : {}));
    expect(details[1]?.error).toContain('AUDIT_NOT_AN_ACTION');
    expect(JSON.parse(details[1]?.value ?? '{}')).toMatchObject({ data: { tool: 'image.analyze' } });
    expect(Buffer.from(details[2]?.value ?? '', 'base64').toString()).toBe('not avro at all');
    expect(JSON.stringify(entries)).not.toContain('image.analyze');
    expect(
      await verifyChain(createSegmentStore({ dir: auditDir }), keys, { decrypt: true, subjectKeys }),
    ).toMatchObject({ ok: true });
  });

  it('with recordEvents, each event of another type is one event.recorded entry per event id (a re-send is dropped)', async () => {
    const { keys } = makeKeys();
    const topic = await t.newTopic(1);
    const auditDir = join(dir, 'events');
    const contact = (n: number) => ({
      envelope: newEnvelope({
        type: 'tributary.mcp.ToolCancelled',
        source: 'connector.crm',
        subject: `contact-${n}`,
        actor: 'connector.crm',
      }),
      data: {
        tool: `tool-${n}`,
        commandTopic: 'crm.contact.upsert.cmd',
        commandEventId: randomUUID(),
        reason: 'timeout',
        message: null,
      },
    });
    const first = contact(1);
    const second = contact(2);
    // The second event sent twice (a producer retry): the chain must hold it once.
    await t.hub.producer.publish(topic, [first, second, actionEvent(3)]);
    await t.hub.producer.publish(topic, [second]);
    const consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId: uniqueName('audit-g'), recordEvents: true },
      { kafka: t.kafka, serde: t.hub.serde, keys },
    );
    await consumer.start();
    await waitFor(
      '3 recorded, 1 dropped',
      () => consumer.status().recorded + consumer.status().dropped === 4,
    );
    await consumer.close();

    const entries = (await readChains(auditDir)).get('0')!;
    expect(entries.map((e) => [e.eventId, e.action])).toEqual([
      [first.envelope.id, 'event.recorded'],
      [second.envelope.id, 'event.recorded'],
      [expect.any(String), expect.not.stringMatching(/^event\./)],
    ]);
    const subjectKeys = await openSubjectKeyFile(join(auditDir, 'subject-keys.json'), keys);
    const body = decryptEntry('0', entries[1]!, keys, subjectKeys);
    const details = 'body' in body ? body.body.details : {};
    expect(details).toMatchObject({ type: 'tributary.mcp.ToolCancelled', subject: 'contact-2' });
    expect(JSON.parse(details.data ?? '{}')).toMatchObject({ tool: 'tool-2' });
    expect(JSON.stringify(entries)).not.toContain('tool-2');
    expect(await verifyChain(createSegmentStore({ dir: auditDir }), keys)).toMatchObject({ ok: true });
  });
});

describe('audit consumer: a chain that cannot be written', () => {
  it('stops without dead-lettering or committing past the chain; a restart records the rest', async () => {
    const { keys } = makeKeys();
    const topic = await t.newTopic(1);
    const auditDir = join(dir, 'broken-disk');
    const groupId = uniqueName('audit-g');
    // The real segment store, with a disk that starts failing on demand.
    const real = createSegmentStore({ dir: auditDir });
    let broken = false;
    const failing: AuditStore = {
      ...real,
      location: real.location,
      async openAppender(chain) {
        const appender = await real.openAppender(chain);
        return {
          chainId: appender.chainId,
          state: appender.state,
          append: (entries) =>
            broken ? Promise.reject(new Error('EIO: i/o error (disk failing)')) : appender.append(entries),
          appendCheckpoint: (cp) => appender.appendCheckpoint(cp),
          close: () => appender.close(),
        };
      },
    };
    const events = Array.from({ length: 10 }, (_, i) => actionEvent(i));
    await t.hub.producer.publish(topic, events);
    const consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId },
      { kafka: t.kafka, serde: t.hub.serde, keys, store: failing },
    );
    await consumer.start();
    await waitFor('10 recorded', () => consumer.status().recorded === 10);
    await waitFor('10 committed', async () => (await offsets(t.kafka, topic, groupId)).committed === 10n);

    broken = true;
    await t.hub.producer.publish(
      topic,
      Array.from({ length: 5 }, (_, i) => actionEvent(10 + i)),
    );
    const stopped = await consumer.failed();
    expect(stopped).toMatchObject({ code: 'AUDIT_STORE_FAILED' });
    expect(stopped.message).toContain('disk failing');
    expect(consumer.status()).toMatchObject({ running: false, recorded: 10 });
    await consumer.close();
    expect(await offsets(t.kafka, topic, groupId)).toEqual({ end: 15n, committed: 10n });
    const admin = t.kafka.admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(`${topic}.dlq`);
    await admin.disconnect();

    // The disk is fine again: the same group picks up where the chain ends, no gap, no duplicate.
    const again = createAuditConsumer(
      { dir: auditDir, topic, groupId },
      { kafka: t.kafka, serde: t.hub.serde, keys },
    );
    await again.start();
    await waitFor('5 more recorded', () => again.status().recorded === 5);
    await again.close();
    const entries = (await readChains(auditDir)).get('0')!;
    expect(entries.map((e) => e.source.offset)).toEqual(entries.map((_, i) => String(i)));
    expect(entries.map((e) => e.eventId)).toEqual([
      ...events.map((e) => e.envelope.id),
      ...entries.slice(10).map((e) => e.eventId),
    ]);
    expect(entries).toHaveLength(15);
    const subjectKeys = await openSubjectKeyFile(join(auditDir, 'subject-keys.json'), keys);
    expect(
      await verifyChain(createSegmentStore({ dir: auditDir }), keys, { decrypt: true, subjectKeys }),
    ).toMatchObject({ ok: true });
  });
});
