import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioProcessorDeclaration } from '../../processors/audio/declaration.ts';
import { sha256Hex } from '../../processors/blob-store/index.ts';
import { chartProcessorDeclaration } from '../../processors/chart/declaration.ts';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import { speechProcessorDeclaration } from '../../processors/speech/declaration.ts';
import { createEspeakSynthesizer } from '../../processors/speech/espeak-synthesizer.ts';
import { synthesizeSpeech } from '../../processors/speech/synthesize.ts';
import { uniqueName } from '../support/names.ts';
import { startProcessorHarness } from './kafka-harness.ts';

type Harness = Awaited<ReturnType<typeof startProcessorHarness>>;
type Ref = { uri: string; size: number; mediaType: string; sha256: string };

describe('media processors on a real broker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startProcessorHarness([
      imageProcessorDeclaration,
      audioProcessorDeclaration,
      chartProcessorDeclaration,
      speechProcessorDeclaration,
    ]);
  });
  afterAll(() => h?.close());

  it('image: answers with the correlation id; corrupt image and hash mismatch give failed results and DLQ records, and consuming goes on', async () => {
    await h.start(imageProcessorDeclaration);
    const corrupt = await h.blobs.put(Buffer.from('this is not a picture'), 'image/png');
    const good = await sharp({
      create: { width: 400, height: 120, channels: 3, background: '#ffffff' },
    })
      .composite([
        {
          input: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="120"><text x="20" y="75" font-family="DejaVu Sans" font-size="48">HELLO HUB</text></svg>',
          ),
        },
      ])
      .png()
      .toBuffer();
    const goodRef = await h.blobs.put(good, 'image/png');
    const mismatched = { ...goodRef, sha256: sha256Hex(Buffer.from('other bytes')) };
    const ids = {
      corrupt: await h.request(
        'media.image.analyze.req',
        'tributary.media.ImageAnalyzeRequest',
        { image: corrupt, analyses: ['text'] },
        'c-corrupt',
      ),
      mismatch: await h.request(
        'media.image.analyze.req',
        'tributary.media.ImageAnalyzeRequest',
        { image: mismatched, analyses: ['text'] },
        'c-mismatch',
      ),
      good: await h.request(
        'media.image.analyze.req',
        'tributary.media.ImageAnalyzeRequest',
        { image: goodRef, analyses: ['text', 'objects'] },
        'c-good',
      ),
    };
    const ok = await h.waitFor('media.image.analyze.res', (r) => r.event.data.requestId === ids.good);
    expect(ok.event.envelope.correlationId).toBe('c-good');
    expect(ok.event.envelope.causationId).toBe(ids.good);
    expect(ok.event.data.status).toBe('succeeded');
    expect((ok.event.data.text as { text: string }).text).toContain('HELLO HUB');
    expect((ok.event.data.objects as { status: string }).status).toBe('unsupported');
    for (const [id, code, correlation] of [
      [ids.corrupt, 'IMAGE_UNREADABLE', 'c-corrupt'],
      [ids.mismatch, 'BLOB_HASH_MISMATCH', 'c-mismatch'],
    ] as const) {
      const failed = await h.waitFor('media.image.analyze.res', (r) => r.event.data.requestId === id);
      expect(failed.event.envelope.correlationId).toBe(correlation);
      expect(failed.event.data.status).toBe('failed');
      expect((failed.event.data.error as { code: string }).code).toBe(code);
      const dead = await h.waitFor('media.image.analyze.req.dlq', (r) => r.event.envelope.id === id);
      expect(h.dlqCode(dead)).toBe(code);
    }
    const progress = await h.waitFor('media.job.progress', (r) => r.event.data.requestId === ids.good);
    expect(progress.event.data.command).toBe('image.analyze');
  }, 90_000);

  it('audio: speech transcribes back through Kafka and zero-byte audio fails clearly; speech: a podcast comes back as a verified blob with progress', async () => {
    await Promise.all([h.start(audioProcessorDeclaration), h.start(speechProcessorDeclaration)]);
    const empty = await h.blobs.put(Buffer.alloc(0), 'audio/wav');
    const emptyId = await h.request(
      'media.audio.transcribe.req',
      'tributary.media.AudioTranscribeRequest',
      { audio: empty },
      'c-empty',
    );
    const podcastId = await h.request(
      'media.podcast.create.req',
      'tributary.media.PodcastCreateRequest',
      {
        title: 'Test',
        speakers: [
          { name: 'Ann', voice: 'en-us' },
          { name: 'Bob', voice: 'en-gb' },
        ],
        parts: [
          { speaker: 'Ann', text: 'Hello Bob.' },
          { speaker: 'Bob', text: 'Hello Ann.' },
        ],
        pauseMs: 500,
        format: 'wav',
      },
      'c-podcast',
    );
    const sentence = 'send the monthly report to the finance team';
    const speech = await synthesizeSpeech(
      sentence,
      createEspeakSynthesizer({ voice: 'en-us+klatt4', wordsPerMinute: 150 }),
    );
    const spokenId = await h.request(
      'media.audio.transcribe.req',
      'tributary.media.AudioTranscribeRequest',
      {
        audio: await h.blobs.put(speech.audio, 'audio/wav'),
        hints: [...sentence.split(' '), 'weekly', 'invoice'],
        sentiment: true,
      },
      'c-spoken',
    );
    const spoken = await h.waitFor('media.audio.transcribe.res', (r) => r.event.data.requestId === spokenId);
    expect(spoken.event.data.status).toBe('succeeded');
    expect(spoken.event.data.transcript).toBe(sentence);
    expect((spoken.event.data.words as unknown[]).length).toBe(8);
    expect((spoken.event.data.sentiment as { status: string; label: string }).label).toBe('neutral');
    const failed = await h.waitFor('media.audio.transcribe.res', (r) => r.event.data.requestId === emptyId);
    expect([failed.event.data.status, (failed.event.data.error as { code: string }).code]).toEqual([
      'failed',
      'AUDIO_EMPTY',
    ]);
    expect(
      h.dlqCode(await h.waitFor('media.audio.transcribe.req.dlq', (r) => r.event.envelope.id === emptyId)),
    ).toBe('AUDIO_EMPTY');

    const podcast = await h.waitFor('media.podcast.create.res', (r) => r.event.data.requestId === podcastId);
    expect(podcast.event.envelope.correlationId).toBe('c-podcast');
    expect(podcast.event.data.status).toBe('succeeded');
    expect(podcast.event.data.partCount).toBe(2);
    const bytes = await h.blobs.get(podcast.event.data.audio as Ref);
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(podcast.event.data.durationSec).toBeGreaterThan(1);
    const stages = h.received
      .filter((r) => r.topic === 'media.job.progress' && r.event.data.requestId === podcastId)
      .map((r) => r.event.data.stage);
    expect(stages).toContain('synthesize part 2/2');
  }, 90_000);

  it('chart: an unknown chart type fails with a DLQ record, a bar chart comes back as a PNG blob', async () => {
    await h.start(chartProcessorDeclaration);
    const badId = await h.request(
      'media.chart.render.req',
      'tributary.media.ChartRenderRequest',
      { chartType: 'radar', datasets: [{ label: 'x', values: [1] }] },
      'c-radar',
    );
    const goodId = await h.request(
      'media.chart.render.req',
      'tributary.media.ChartRenderRequest',
      {
        chartType: 'bar',
        width: 320,
        height: 200,
        labels: ['a', 'b'],
        datasets: [{ label: 'x', values: [3, 4] }],
      },
      uniqueName('corr'),
    );
    const bad = await h.waitFor('media.chart.render.res', (r) => r.event.data.requestId === badId);
    expect((bad.event.data.error as { code: string; message: string }).code).toBe('CHART_TYPE_UNKNOWN');
    expect(
      h.dlqCode(await h.waitFor('media.chart.render.req.dlq', (r) => r.event.envelope.id === badId)),
    ).toBe('CHART_TYPE_UNKNOWN');
    const good = await h.waitFor('media.chart.render.res', (r) => r.event.data.requestId === goodId);
    expect(good.event.data.status).toBe('succeeded');
    const png = await h.blobs.get(good.event.data.image as Ref);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 320, 200]);
  }, 90_000);
});
