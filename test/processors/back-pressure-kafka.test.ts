import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import type { MediaService } from '../../processors/shared/media-service.ts';
import { speechProcessorDeclaration } from '../../processors/speech/declaration.ts';
import { startProcessorHarness } from './kafka-harness.ts';
import { chatAnswer, json, startOpenAiTestServer } from './openai-test-server.ts';

type Harness = Awaited<ReturnType<typeof startProcessorHarness>>;

describe('processor back-pressure on a real broker', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof startOpenAiTestServer>>;
  beforeAll(async () => {
    h = await startProcessorHarness([imageProcessorDeclaration, speechProcessorDeclaration]);
    server = await startOpenAiTestServer();
  });
  afterAll(async () => {
    await h?.close();
    await server?.close();
  });

  it('pauses the consumer while the provider breaker is open, then finishes the job once it recovers', async () => {
    const service = (await h.start(imageProcessorDeclaration, {
      provider: 'openai',
      openai: { apiKey: 'k', baseURL: server.baseURL, model: 'vision-test', timeoutMs: 5_000 },
      retry: { retries: 10, initialDelayMs: 50, maxDelayMs: 100 },
      runner: { breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 1_500 } },
    })) as MediaService;
    const pausedStates: string[][] = [];
    const watch = setInterval(() => pausedStates.push(service.status().pausedBy as string[]), 20);
    server.next(json(500, { error: { message: 'down' } }));
    server.next(json(500, { error: { message: 'still down' } }));
    server.next(chatAnswer('A grey square.'));
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const id = await h.request(
      'media.image.analyze.req',
      'tributary.media.ImageAnalyzeRequest',
      { image: await h.blobs.put(image, 'image/png'), analyses: ['describe'] },
      'c-breaker',
    );
    const result = await h.waitFor('media.image.analyze.res', (r) => r.event.data.requestId === id);
    clearInterval(watch);
    expect(result.event.data.status).toBe('succeeded');
    expect((result.event.data.describe as { text: string }).text).toBe('A grey square.');
    expect(pausedStates.some((s) => s.includes('breaker'))).toBe(true);
    expect(service.status().pausedBy).toEqual([]);
    expect(server.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(3);
    expect(h.received.some((r) => r.topic === 'media.image.analyze.req.dlq')).toBe(false);
  }, 60_000);

  it('pauses the consumer while every pool slot is busy', async () => {
    const service = (await h.start(speechProcessorDeclaration, {
      runner: { maxConcurrent: 1 },
    })) as MediaService;
    const seen: { pausedBy: string[]; paused: boolean }[] = [];
    const watch = setInterval(() => {
      const status = service.status() as { pausedBy: string[]; consumer: { paused: boolean } | null };
      seen.push({ pausedBy: status.pausedBy, paused: status.consumer?.paused ?? false });
    }, 20);
    const parts = Array.from({ length: 8 }, (_, i) => ({
      speaker: i % 2 ? 'Bob' : 'Ann',
      text: `This is part number ${i + 1} of a podcast long enough to keep the only slot busy.`,
    }));
    const id = await h.request(
      'media.podcast.create.req',
      'tributary.media.PodcastCreateRequest',
      { speakers: [{ name: 'Ann' }, { name: 'Bob', voice: 'en-gb' }], parts, pauseMs: 100, format: 'wav' },
      'c-pool',
    );
    const result = await h.waitFor('media.podcast.create.res', (r) => r.event.data.requestId === id);
    clearInterval(watch);
    expect(result.event.data.status).toBe('succeeded');
    expect(seen.some((s) => s.pausedBy.includes('pool') && s.paused)).toBe(true);
    expect(service.status().pausedBy).toEqual([]);
  }, 60_000);
});
