import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIONS_TOPIC,
  createDeadLetterWriter,
  createEventConsumer,
  type EventConsumer,
} from '../../platform/index.ts';
import { createLocalBlobStore } from '../../processors/blob-store/index.ts';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import { PROGRESS_TOPIC } from '../../processors/shared/media-service.ts';
import { newEnvelope } from '../../schemas/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { createTopics, reliabilityHub, waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * Process faults: the image processor runs as a child process and is killed with SIGKILL
 * mid-batch, twice, then restarted. Every request must get its result (at-least-once), and
 * the processor's durable idempotency must keep re-runs to the requests in flight at each kill.
 * The audit consumer's crash test lives in test/audit/consumer-crash.test.ts (50,000 actions,
 * two SIGKILLs); it is counted here, not repeated.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const child = join(import.meta.dirname, 'fixtures', 'run-image-processor.ts');
const REQUESTS = 150;
const MAX_CONCURRENT = 2;

function startChild(env: NodeJS.ProcessEnv): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [child], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: string) => {
    output += chunk;
  };
  proc.stdout!.setEncoding('utf8').on('data', collect);
  proc.stderr!.setEncoding('utf8').on('data', collect);
  return { proc, output: () => output.slice(-2000) };
}

const exited = (proc: ChildProcess) =>
  new Promise<void>((resolve) =>
    proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve()),
  );

describe('image processor killed mid-batch', () => {
  let hub: Awaited<ReturnType<typeof reliabilityHub>>;
  let blobDir: string;
  const prefix = `${uniqueName('rel-media')}.`;
  const topic = (name: string) => prefix + name;
  let downstream: EventConsumer | undefined;

  beforeAll(async () => {
    hub = await reliabilityHub(testKafka().brokers);
    blobDir = await mkdtemp(join(tmpdir(), 'tributary-rel-blobs-'));
    const topics = imageProcessorDeclaration.topics.flatMap((t) => [
      topic(t.name),
      ...(t.deadLetter ? [`${topic(t.name)}.dlq`] : []),
    ]);
    await createTopics(hub.kafka, [...topics, topic(ACTIONS_TOPIC), topic(PROGRESS_TOPIC)], 1);
  });
  afterAll(async () => {
    await downstream?.close();
    await hub?.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  it(`${REQUESTS} requests across two SIGKILLs: every result arrives, re-runs only for requests in flight`, {
    timeout: 150_000,
  }, async () => {
    // A large noisy picture, so each job takes long enough to be killed in the middle of a batch.
    const raw = Buffer.alloc(1400 * 1000 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
    const png = await sharp(raw, { raw: { width: 1400, height: 1000, channels: 3 } })
      .png()
      .toBuffer();
    const image = await createLocalBlobStore(blobDir).put(png, 'image/png');

    const results = new Map<string, number>();
    downstream = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: uniqueName('rel-downstream'),
      topics: [topic('media.image.analyze.res')],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      async handler(event) {
        const data = event.data as { requestId: string; status: string };
        expect(data.status).toBe('succeeded');
        results.set(data.requestId, (results.get(data.requestId) ?? 0) + 1);
      },
    });
    await downstream.start();

    const requests = Array.from({ length: REQUESTS }, (_, i) => ({
      envelope: newEnvelope({
        type: 'tributary.media.ImageAnalyzeRequest',
        source: 'reliability',
        subject: `job-${i}`,
        actor: 'tester',
      }),
      data: { image, analyses: ['describe'], prompt: null, language: null, provider: null },
    }));
    for (let i = 0; i < REQUESTS; i += 50) {
      await hub.producer.publish(topic('media.image.analyze.req'), requests.slice(i, i + 50));
    }

    const env = {
      ...process.env,
      KAFKA_BROKERS: testKafka().brokers.join(','),
      REL_SCHEMA_LOG_TOPIC: hub.schemaLogTopic,
      REL_PREFIX: prefix,
      REL_BLOB_DIR: blobDir,
      REL_GROUP: uniqueName('rel-image'),
    };
    let kills = 0;
    for (const killAt of [Math.floor(REQUESTS / 4), Math.floor(REQUESTS / 2)]) {
      const run = startChild(env);
      await waitUntil(
        () => `${killAt} results (${results.size}) ${run.output()}`,
        () => results.size >= killAt,
        60_000,
      );
      run.proc.kill('SIGKILL');
      await exited(run.proc);
      kills++;
    }
    // Killed mid-batch: work was left.
    expect(results.size).toBeLessThan(REQUESTS);
    const last = startChild(env);
    await waitUntil(
      () => `all results (${results.size}) ${last.output()}`,
      () => results.size >= REQUESTS,
      90_000,
    );
    last.proc.kill('SIGTERM');
    await exited(last.proc);
    expect(last.output()).toContain('closed');

    const missing = requests.filter((r) => !results.has(r.envelope.id));
    const reRuns = [...results.values()].reduce((sum, n) => sum + n - 1, 0);
    tally.add(
      { faultsInjected: kills, eventsChecked: REQUESTS, eventsLost: missing.length },
      `image processor: ${REQUESTS} requests, ${kills} SIGKILLs mid-batch, ${reRuns} request(s) re-run after a kill (in flight then)`,
    );
    tally.add(
      {},
      'audit consumer SIGKILL mid-stream: covered by test/audit/consumer-crash.test.ts (50,000 actions, two kills, no gap, no duplicate), not repeated here',
    );
    expect(missing).toEqual([]);
    // Durable idempotency: only what was in flight at a kill may run again.
    expect(reRuns).toBeLessThanOrEqual(kills * MAX_CONCURRENT);
  });
});
