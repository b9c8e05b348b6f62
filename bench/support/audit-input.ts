import { createHash, randomUUID } from 'node:crypto';
import { actionRecordOf } from '../../audit/action-record.ts';
import type { ActionRecord } from '../../audit/index.ts';
import { ACTION_EVENT_TYPE, ACTIONS_TOPIC } from '../../platform/index.ts';
import { type HubEvent, newEnvelope, type Serde } from '../../schemas/index.ts';

/**
 * The audit benchmark's input, as the audit consumer gets it: action events written to
 * hub.actions by the hub's producers (Avro, Confluent-framed, through the hub's serde), made
 * before any clock starts. Each batch is decoded right before it is appended, as the consumer
 * decodes a fetched batch and hands it on, and that decoding is kept out of the measured time
 * (`InputClock`): the benchmark measures the audit, and the serde benchmark the decoding.
 */

const SUBJECTS = Array.from({ length: 50 }, (_, i) => `003Dn${String(i).padStart(13, '0')}`);

/** The action at `offset`: one in four concerns a data subject (its own key); the rest use the master key. */
function actionEvent(offset: number): HubEvent<unknown> {
  const subjectId = SUBJECTS[offset % SUBJECTS.length]!;
  const resource = `crm/contact/${subjectId}`;
  return {
    envelope: newEnvelope({
      type: ACTION_EVENT_TYPE,
      source: 'mcp-bridge',
      subject: resource,
      actor: 'alice@example.com',
      correlationId: randomUUID(),
    }),
    data: {
      action: 'crm.contact.upsert',
      actor: 'alice@example.com',
      resource,
      outcome: 'succeeded',
      argsDigest: createHash('sha256').update(String(offset)).digest('hex'),
      subjectId: offset % 4 === 0 ? subjectId : null,
      details: { tool: 'crm_contact_upsert', httpStatus: '200', durationMs: '84' },
    },
  };
}

/** `entries` encoded action events in Kafka-sized batches. */
export async function encodedBatches(serde: Serde, entries: number, batch: number): Promise<Buffer[][]> {
  const batches: Buffer[][] = [];
  for (let offset = 0; offset < entries; offset += batch) {
    const values: Buffer[] = [];
    for (let i = offset; i < Math.min(offset + batch, entries); i += 1)
      values.push(await serde.encode(ACTIONS_TOPIC, ACTION_EVENT_TYPE, actionEvent(i) as never));
    batches.push(values);
  }
  return batches;
}

/** Where a chain's appends get each batch's records. */
export interface BatchInput {
  decode(values: Buffer[], partition: number, first: number): Promise<ActionRecord[]>;
}

/** Decodes batches for the appends and keeps count of the time that took (wall and CPU). */
export class InputClock implements BatchInput {
  /** Wall time spent decoding, ms. */
  wallMs = 0;
  /** CPU time the decoding took on this thread, µs. */
  cpuUs = 0;

  private readonly serde: Serde;

  constructor(serde: Serde) {
    this.serde = serde;
  }

  /** The records of one batch of `partition` whose first offset is `first`, as the consumer hands them on. */
  async decode(values: Buffer[], partition: number, first: number): Promise<ActionRecord[]> {
    const start = performance.now();
    const cpu = process.threadCpuUsage();
    const records: ActionRecord[] = [];
    for (let i = 0; i < values.length; i += 1) {
      const where = { topic: ACTIONS_TOPIC, partition, offset: String(first + i) };
      const decoded = await this.serde.decode(values[i]!, where);
      records.push(actionRecordOf(decoded.value as HubEvent<unknown>, where));
    }
    const used = process.threadCpuUsage(cpu);
    this.cpuUs += used.user + used.system;
    this.wallMs += performance.now() - start;
    return records;
  }
}
