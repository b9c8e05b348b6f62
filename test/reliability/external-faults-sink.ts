import { describe, expect, it } from 'vitest';
import { deadLetterTopic } from '../../platform/index.ts';
import { newEnvelope } from '../../schemas/index.ts';
import type { ContractSubject } from '../connectors/contract.ts';
import type { Collected } from '../connectors/support/topics.ts';
import { uniqueName } from '../support/names.ts';
import { dataRequest, type Harness, RETRIES, waitUntil } from './external-faults-harness.ts';
import type { Tally } from './tally.ts';

/**
 * Sink commands (issue 10) against faults the breaker does not see as an outage, and against
 * permanent refusals:
 * - the system's writes fail (maintenance: 503s) while its reads keep answering, so the breaker
 *   of the shared endpoint stays closed: a command outlives every retry the sink has and still
 *   must not reach the DLQ; it waits, is applied once when writes come back, and the system sees
 *   a bounded number of attempts;
 * - a 404 or 422 from the system is permanent: one request, then the DLQ with the reason.
 */

const SINK_RETRIES = 2;

export function runSinkFaults(subject: ContractSubject, harness: Harness, tally: Tally): void {
  describe(`sink commands to the ${subject.system} system`, () => {
    const push = async (prefix: string, data: Record<string, unknown>) => {
      const envelope = newEnvelope({
        type: subject.command.type,
        source: 'test',
        subject: String(data[subject.command.keyField]),
        actor: 'test',
      });
      await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [{ envelope, data }]);
      return envelope.id;
    };
    const outcome = (results: Collected, id: string) =>
      results.events.find((e) => e.data.commandId === id)?.data.outcome;

    it('writes failing while reads answer (the breaker stays closed): the command outlives its retries, waits, and is applied once, never dead-lettered', async () => {
      const { prefix, connector, status, collect } = await harness.connector({
        sinkRetries: SINK_RETRIES,
        pollIntervalMs: 20,
      });
      const results = await collect(subject.command.resultTopic);
      const dlq = await collect(deadLetterTopic(subject.command.topic));
      const faults = subject.faults();
      faults.clear();
      const writes = (req: Parameters<typeof dataRequest>[0]) =>
        dataRequest(req) && subject.command.isWrite(req);
      // More failing writes than one command's every try: (sink retries + 1) x (HTTP retries + 1).
      const perCommand = (SINK_RETRIES + 1) * (RETRIES + 1);
      const failing = perCommand + 6;
      const before = faults.hits.status ?? 0;
      const failed = () => (faults.hits.status ?? 0) - before;
      faults.inject({ kind: 'status', status: 503 }, failing, writes);
      // Reads pass (a zero delay only counts them); enough of them keep the failure share low.
      const readsBefore = faults.hits.slow ?? 0;
      const reads = (req: Parameters<typeof dataRequest>[0]) =>
        dataRequest(req) && !subject.command.isWrite(req);
      faults.inject({ kind: 'slow', delayMs: 0 }, 1_000_000, reads);
      await connector.start();
      await waitUntil(
        'the source has read 40 times',
        () => (faults.hits.slow ?? 0) - readsBefore >= 40,
        status,
      );
      const key = uniqueName('xf-cmd');
      const id = await push(prefix, subject.command.data(key));
      await waitUntil('the command is answered', () => outcome(results, id) !== undefined, status);
      const breakers = status().endpoints.map((e) => e.breaker);
      const pauses = status().sink?.outlivedRetriesPauses ?? 0;
      const applied = subject.command.changesApplied(key);
      tally.add(
        { faultsInjected: failed(), eventsChecked: 1, eventsLost: applied === 1 ? 0 : 1 },
        `${subject.system} sink, writes answering 503 while reads answer: ${failed()} failing writes, breaker ${breakers.join(',')}, ${pauses} pauses after outlived retries, outcome ${String(outcome(results, id))}, applied ${applied}, ${dlq.dead.length} dead letters`,
      );
      expect(failed()).toBe(failing);
      // Each pause comes after one command's every try: (sink retries + 1) x (HTTP retries + 1).
      expect(pauses).toBe(Math.ceil(failing / perCommand) - 1);
      expect(outcome(results, id)).toBe('succeeded');
      expect(applied).toBe(1);
      expect(dlq.dead).toEqual([]);
      faults.clear();
      await connector.close();
    });

    it('a 404 and a 422 are permanent: one request each, then the DLQ with the reason; the next command is applied', async () => {
      const { prefix, connector, status, collect } = await harness.connector({ source: false });
      const results = await collect(subject.command.resultTopic);
      const dlq = await collect(deadLetterTopic(subject.command.topic));
      await connector.start();
      const faults = subject.faults();
      faults.clear();
      const writes = (req: Parameters<typeof dataRequest>[0]) =>
        dataRequest(req) && subject.command.isWrite(req);
      const sent: { status: number; id: string }[] = [];
      const before = faults.hits.status ?? 0;
      for (const refusal of [404, 422]) {
        faults.inject(
          { kind: 'status', status: refusal, body: JSON.stringify({ error: `refused with ${refusal}` }) },
          1,
          writes,
        );
        const id = await push(prefix, subject.command.data(uniqueName('xf-refused')));
        sent.push({ status: refusal, id });
        await waitUntil(`the ${refusal} is answered`, () => outcome(results, id) !== undefined, status);
      }
      const refusals = (faults.hits.status ?? 0) - before;
      const okKey = uniqueName('xf-ok');
      const ok = await push(prefix, subject.command.data(okKey));
      await waitUntil('the next command is answered', () => outcome(results, ok) !== undefined, status);
      await waitUntil('both refusals are dead-lettered', () => dlq.dead.length >= 2, status);
      tally.add(
        { faultsInjected: refusals, eventsChecked: 3 },
        `${subject.system} sink: 404 and 422 dead-lettered after ${refusals} requests; the next command ${String(outcome(results, ok))}`,
      );
      expect(refusals).toBe(2);
      for (const { status: code, id } of sent) {
        expect(outcome(results, id)).toBe('failed');
        const letter = dlq.dead.find((d) => d.info.errorMessage.includes(`answered ${code}`));
        expect(letter?.info.errorCode).toBe('HTTP_REJECTED');
        expect(letter?.info.errorMessage).toContain(`refused with ${code}`);
      }
      expect(dlq.dead).toHaveLength(2);
      expect(outcome(results, ok)).toBe('succeeded');
      expect(subject.command.changesApplied(okKey)).toBe(1);
      await connector.close();
    });
  });
}
