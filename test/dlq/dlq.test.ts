import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DlqCommandOptions, registerDlqCommands } from '../../cli/commands/dlq.ts';
import { HubError, UsageError } from '../../core/errors.ts';
import { createDeadLetterWriter, DeadLetterHeaders, RedriveHeaders } from '../../platform/dead-letter.ts';
import { EventHeaders } from '../../platform/producer.ts';
import { headerText } from '../../platform/records.ts';
import type { FollowedRecord } from '../../platform/topic-follower.ts';
import { actionEvent, createTopics, deleteTopics, readTopic, testHub } from '../replay/support.ts';
import { uniqueName } from '../support/names.ts';

type Hub = Awaited<ReturnType<typeof testHub>>;
let hub: Hub;
const source = uniqueName('test.dlq.orders');
const dlq = `${source}.dlq`;
const markersTopic = uniqueName('test.dlq.markers');
const actionsTopic = uniqueName('test.dlq.actions');
const topics = [source, dlq, markersTopic, actionsTopic];
let originals: FollowedRecord[];

beforeAll(async () => {
  hub = await testHub();
  topics.push(hub.schemaLogTopic);
  await createTopics(hub.kafka, [source], 2);
  await createTopics(hub.kafka, [dlq, actionsTopic], 1);
  await hub.producer.publish(source, [
    actionEvent('order-1'),
    actionEvent('order-2'),
    actionEvent('order-3'),
  ]);
  originals = (await readTopic(hub.kafka, source)).sort(
    (a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset),
  );
  const writer = createDeadLetterWriter({ producer: hub.producer });
  const [first, second, third] = originals;
  if (!first || !second || !third) throw new Error('expected three source records');
  const letter = (r: FollowedRecord, stage: string, error: HubError, value = r.value) => ({
    record: { key: r.key, value, headers: r.headers },
    topic: source,
    partition: r.partition,
    offset: r.offset,
    stage,
    error,
  });
  await writer.send(
    letter(first, 'push', new HubError('CRM_REJECTED', 'the CRM refused the contact: duplicate email')),
  );
  await writer.send(
    letter(second, 'push', new HubError('CRM_REJECTED', 'the CRM refused the contact: missing account')),
  );
  await writer.send(
    letter(third, 'decode', new HubError('SERDE_CORRUPT', 'bad union index'), Buffer.from('garbage')),
  );
  // A record somebody wrote by hand: no dead-letter headers, so no known source.
  await hub.producer.publishRaw(dlq, [{ key: 'stray', value: Buffer.from('stray') }]);
});

afterAll(async () => {
  await hub?.close();
  if (hub) await deleteTopics(hub.kafka, topics);
});

async function run(args: string[], extra: Partial<DlqCommandOptions> = {}): Promise<string> {
  let out = '';
  const program = new Command('tributary').exitOverride();
  registerDlqCommands(program, {
    env: { TRIBUTARY_ACTOR: 'dlq-tester' },
    write: (t) => {
      out += t;
    },
    hubContext: async () => ({ ...hub, close: async () => {} }),
    markersTopic,
    actionsTopic,
    ...extra,
  });
  await program.parseAsync(['dlq', ...args], { from: 'user' });
  return out;
}

async function auditActions() {
  const records = await readTopic(hub.kafka, actionsTopic);
  const decoded = await Promise.all(
    records.map((r) => hub.serde.decode(r.value as Buffer, { topic: actionsTopic, ...r })),
  );
  return decoded.map(
    (d) =>
      (
        d.value as {
          data: { action: string; actor: string; resource: string; details: Record<string, string> };
        }
      ).data,
  );
}

describe('tributary dlq', { timeout: 60_000 }, () => {
  it('list shows dead-letter topics with their counts', async () => {
    const listed = JSON.parse(await run(['list', '--topic', source, '--json']));
    expect(listed).toEqual([{ topic: dlq, source, partitions: 1, records: 4, redriven: 0 }]);
    expect(await run(['list', '--topic', dlq])).toBe(`${dlq}  4 record(s), 0 redriven  from ${source}\n`);
  });

  it('show gives reason, stage, origin, time and the decoded event when it decodes', async () => {
    const text = await run(['show', '--topic', dlq]);
    expect(text).toContain(
      `CRM_REJECTED (stage push) from ${source}/${originals[0]?.partition}/${originals[0]?.offset}`,
    );
    expect(text).toContain('reason: the CRM refused the contact: duplicate email');
    expect(text).toContain('SERDE_CORRUPT (stage decode)');
    expect(text).toContain('(no dead-letter headers)');
    expect(text).toContain('"action":"test.action"');

    const letters = JSON.parse(await run(['show', '--topic', source, '--json', '--limit', '3']));
    expect(letters).toHaveLength(3);
    expect(letters[0].info).toMatchObject({
      errorCode: 'CRM_REJECTED',
      stage: 'push',
      originalTopic: source,
    });
    expect(letters[0].eventId).toBe(headerText(originals[0]?.headers, EventHeaders.eventId));
    expect(letters[0].decoded.envelope.subject).toBe(originals[0]?.key?.toString());
    expect(letters[2].decoded).toBeUndefined();
    expect(letters[2].decodeError).toBeDefined();
  });

  it('redrive sends matching letters back once, without DLQ headers, audited per record', async () => {
    const dry = await run(['redrive', '--topic', dlq, '--where', 'code=CRM_REJECTED', '--dry-run']);
    expect(dry).toContain(`dry run: would redrive 2 of 4 records from ${dlq}`);
    expect(await readTopic(hub.kafka, source)).toHaveLength(3);

    const first = JSON.parse(
      await run([
        'redrive',
        '--topic',
        dlq,
        '--where',
        'code=CRM_REJECTED',
        '--where',
        'stage=push',
        '--json',
      ]),
    );
    expect(first.records).toHaveLength(2);
    const after = await readTopic(hub.kafka, source);
    expect(after).toHaveLength(5);
    const redriven = after.filter((r) => headerText(r.headers, RedriveHeaders.count) !== undefined);
    expect(redriven).toHaveLength(2);
    for (const copy of redriven) {
      const original = originals.find(
        (o) => headerText(o.headers, EventHeaders.eventId) === headerText(copy.headers, EventHeaders.eventId),
      );
      expect(copy.value?.equals(original?.value as Buffer)).toBe(true);
      expect(copy.key?.toString()).toBe(original?.key?.toString());
      expect(headerText(copy.headers, DeadLetterHeaders.errorCode)).toBeUndefined();
      expect(headerText(copy.headers, RedriveHeaders.count)).toBe('1');
      expect(headerText(copy.headers, RedriveHeaders.from)).toMatch(new RegExp(`^${dlq}/0/[01]$`));
    }
    const actions = (await auditActions()).filter((a) => a.action === 'dlq.redrive');
    expect(actions).toHaveLength(2);
    expect(actions[0]).toMatchObject({
      actor: 'dlq-tester',
      resource: source,
      details: { dlqTopic: dlq, errorCode: 'CRM_REJECTED' },
    });

    // Everything now: the two already sent are skipped, the stray record cannot be sent.
    const second = JSON.parse(await run(['redrive', '--topic', dlq, '--json']));
    expect(second).toMatchObject({ considered: 4, alreadyRedriven: 2, notDeadLetters: 1 });
    expect(second.records.map((r: { errorCode: string }) => r.errorCode)).toEqual(['SERDE_CORRUPT']);
    const third = await run(['redrive', '--topic', dlq]);
    expect(third).toContain(
      `redrove 0 of 4 records from ${dlq} (skipped: 3 already redriven, 1 without dead-letter headers)`,
    );
    expect(await readTopic(hub.kafka, source)).toHaveLength(6);
    expect(JSON.parse(await run(['list', '--topic', source, '--json']))[0].redriven).toBe(3);
  });

  it('bad conditions are usage errors; a missing DLQ topic is a HubError', async () => {
    await expect(run(['redrive', '--topic', dlq, '--where', 'colour=red'])).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(run(['show', '--topic', dlq, '--limit', '0'])).rejects.toBeInstanceOf(UsageError);
    const missing = (await run(['show', '--topic', uniqueName('test.dlq.none')]).catch(
      (e: unknown) => e,
    )) as HubError;
    expect(missing.code).toBe('DLQ_TOPIC_MISSING');
  });
});
