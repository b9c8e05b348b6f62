import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import type { MediaService } from '../../processors/shared/media-service.ts';
import { requestDigest } from '../../processors/shared/result-action.ts';
import { newEnvelope } from '../../schemas/index.ts';
import { uniqueName } from '../support/names.ts';
import { startProcessorHarness } from './kafka-harness.ts';

type Harness = Awaited<ReturnType<typeof startProcessorHarness>>;

const REQ = 'media.image.analyze.req';
const RES = 'media.image.analyze.res';
const REQ_TYPE = 'tributary.media.ImageAnalyzeRequest';

describe('processor results as audit actions, and durable idempotency, on a real broker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startProcessorHarness([imageProcessorDeclaration]);
  });
  afterAll(() => h?.close());

  const grey = () =>
    sharp({ create: { width: 48, height: 32, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();

  /** Publishes a request under a fresh envelope (actor and tenant of our choosing) and returns it. */
  async function publish(data: unknown, fields: { actor: string; tenant?: string; id?: string }) {
    const envelope = {
      ...newEnvelope({
        type: REQ_TYPE,
        source: 'test',
        subject: uniqueName('job'),
        actor: fields.actor,
        tenant: fields.tenant ?? 'default',
        correlationId: uniqueName('corr'),
      }),
      ...(fields.id ? { id: fields.id } : {}),
    };
    await h.hub.producer.publish(h.prefix + REQ, [{ envelope, data }]);
    return envelope;
  }

  it('a succeeded and a failed job each leave a decodable tributary.audit.Action with the request actor, resource, outcome and digest', async () => {
    const service = await h.start(imageProcessorDeclaration);
    // As decoded from the request topic (Avro defaults spelled out): the digest covers exactly that.
    const unset = { prompt: null, language: null, provider: null };
    const goodData = {
      image: await h.blobs.put(await grey(), 'image/png'),
      analyses: ['describe'],
      ...unset,
    };
    const badData = {
      image: await h.blobs.put(Buffer.from('no picture here'), 'image/png'),
      analyses: ['text', 'describe'],
      ...unset,
    };
    const good = await publish(goodData, { actor: 'alice@example.com', tenant: 'acme' });
    const bad = await publish(badData, { actor: 'bob@example.com' });

    const ok = await h.waitFor('hub.actions', (r) => r.event.data.resource === `processor.image/${good.id}`);
    expect(ok.event.envelope.type).toBe('tributary.audit.Action');
    expect(ok.event.envelope.source).toBe('processor.image');
    expect(ok.event.envelope.actor).toBe('alice@example.com');
    expect(ok.event.envelope.tenant).toBe('acme');
    expect(ok.event.envelope.correlationId).toBe(good.correlationId);
    expect(ok.event.envelope.causationId).toBe(good.id);
    expect(ok.event.data).toMatchObject({
      action: 'processor.result',
      actor: 'alice@example.com',
      outcome: 'succeeded',
      argsDigest: requestDigest(goodData),
    });
    const okDetails = ok.event.data.details as Record<string, string>;
    expect(okDetails).toMatchObject({
      command: 'image.analyze',
      analyses: 'describe',
      'image.mediaType': 'image/png',
      'image.size': String(goodData.image.size),
    });
    expect(okDetails.errorCode).toBeUndefined();

    const failed = await h.waitFor(
      'hub.actions',
      (r) => r.event.data.resource === `processor.image/${bad.id}`,
    );
    expect(failed.event.data).toMatchObject({
      action: 'processor.result',
      actor: 'bob@example.com',
      outcome: 'failed',
      argsDigest: requestDigest(badData),
    });
    expect(failed.event.data.details).toMatchObject({
      errorCode: 'IMAGE_UNREADABLE',
      retriable: 'false',
      analyses: 'text,describe',
    });
    // The digest proves the arguments without storing them: a different request, a different digest.
    expect(requestDigest(goodData)).not.toBe(requestDigest(badData));
    // Exactly one action per result.
    const mine = h.received.filter(
      (r) =>
        r.topic === 'hub.actions' &&
        [good.id, bad.id].some((id) => r.event.data.resource === `processor.image/${id}`),
    );
    expect(mine).toHaveLength(2);
    // The next test's group must be the only one reading the request topic.
    await service.close();
  }, 60_000);

  it('refuses to start when the action topic is missing, instead of failing every job', async () => {
    const err = await h.start(imageProcessorDeclaration, { actionsTopic: uniqueName('no.actions') }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; hint?: string },
    );
    expect(err?.code).toBe('PROCESSOR_TOPIC_MISSING');
    expect(err?.hint).toContain('topology apply');
  });

  it('a request re-delivered with the same event id after a restart on the same group is not processed again', async () => {
    const groupId = uniqueName('group');
    const data = { image: await h.blobs.put(await grey(), 'image/png'), analyses: ['describe'] };
    const first = await h.start(imageProcessorDeclaration, { groupId });
    const request = await publish(data, { actor: 'carol@example.com' });
    await h.waitFor(RES, (r) => r.event.data.requestId === request.id);
    await first.close();

    const second = await h.start(imageProcessorDeclaration, { groupId });
    // The same event again (a producer retry or a replay), then a fresh one as a marker: once
    // the marker's result is out, the duplicate before it in the partition was already seen.
    await h.hub.producer.publish(h.prefix + REQ, [{ envelope: request, data }]);
    const marker = await publish(data, { actor: 'carol@example.com' });
    await h.waitFor(RES, (r) => r.event.data.requestId === marker.id);
    const results = h.received.filter((r) => r.topic === RES && r.event.data.requestId === request.id);
    expect(results).toHaveLength(1);
    const actions = h.received.filter(
      (r) => r.topic === 'hub.actions' && r.event.data.resource === `processor.image/${request.id}`,
    );
    expect(actions).toHaveLength(1);
    const status = (second as MediaService).status() as { consumer: { duplicates: number } };
    expect(status.consumer.duplicates).toBe(1);
  }, 60_000);
});
