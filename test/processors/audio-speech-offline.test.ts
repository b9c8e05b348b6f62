import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createPocketsphinxTranscriber } from '../../processors/audio/pocketsphinx-transcriber.ts';
import { createLexiconSentiment } from '../../processors/audio/sentiment.ts';
import { transcribeAudio } from '../../processors/audio/transcribe.ts';
import { runTool } from '../../processors/media-tools/run-tool.ts';
import { createEspeakSynthesizer } from '../../processors/speech/espeak-synthesizer.ts';
import { createPodcast } from '../../processors/speech/podcast.ts';
import { synthesizeSpeech } from '../../processors/speech/synthesize.ts';

// espeak-ng's Klatt voice is the one pocketsphinx's acoustic model hears best.
const voice = 'en-us+klatt4';

describe('offline speech and transcription (espeak-ng, ffmpeg, pocketsphinx)', () => {
  const synthesizer = createEspeakSynthesizer({ voice, wordsPerMinute: 150 });
  const transcriber = createPocketsphinxTranscriber();
  let privateTmp: string;
  const originalTmp = process.env.TMPDIR;

  beforeAll(async () => {
    // A private TMPDIR lets the test see that no temp file is left behind.
    privateTmp = await mkdtemp(join(tmpdir(), 'speech-test-'));
    process.env.TMPDIR = privateTmp;
  });
  afterAll(async () => {
    if (originalTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = originalTmp;
    await rm(privateTmp, { recursive: true, force: true });
  });

  it('transcribes a synthesized sentence (as FLAC) back to its words with hints and word times', async () => {
    const sentence = 'the quick brown fox jumps over the lazy dog';
    const speech = await synthesizeSpeech(sentence, synthesizer);
    // Any input format: the processor converts to 16 kHz mono itself.
    const flac = (
      await runTool(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-i', 'pipe:0', '-f', 'flac', 'pipe:1'],
        {
          input: speech.audio,
        },
      )
    ).stdout;
    expect(flac.subarray(0, 4).toString('latin1')).toBe('fLaC');
    const hints = [...sentence.split(' '), 'cat', 'red', 'slow', 'blue'];
    const result = await transcribeAudio(flac, transcriber, { hints, language: 'en' });
    expect(result.text).toBe(sentence);
    expect(result.provider).toBe('offline');
    expect(result.wordTimestamps).toBe('succeeded');
    expect(result.words.map((w) => w.word)).toEqual(sentence.split(' '));
    for (const [i, w] of result.words.entries()) {
      expect(w.endSec).toBeGreaterThan(w.startSec);
      if (i > 0) expect(w.startSec).toBeGreaterThanOrEqual(result.words[i - 1]!.endSec);
    }
    expect(result.durationSec).toBeGreaterThan(result.words.at(-1)!.endSec - 0.1);
    expect(await readdir(privateTmp)).toEqual([]);
  }, 60_000);

  it('rates the transcript with the lexicon analyser when asked', async () => {
    const speech = await synthesizeSpeech('this is a wonderful and happy day', synthesizer);
    const result = await transcribeAudio(speech.audio, transcriber, {
      hints: ['this is a', 'wonderful', 'happy', 'day', 'terrible', 'sad', 'and'],
      sentiment: createLexiconSentiment(),
    });
    expect(result.sentiment?.status).toBe('succeeded');
    expect(result.sentiment?.label).toBe('positive');
    const negative = await createLexiconSentiment().analyze('a terrible, sad and awful failure', {});
    expect(negative.label).toBe('negative');
    expect(negative.score).toBeLessThan(0);
  }, 60_000);

  it('gives clear errors for zero-byte and unreadable audio, leaving no temp files', async () => {
    const empty = (await transcribeAudio(Buffer.alloc(0), transcriber).catch((e: unknown) => e)) as HubError;
    expect(empty).toBeInstanceOf(HubError);
    expect(empty.code).toBe('AUDIO_EMPTY');
    const garbage = (await transcribeAudio(Buffer.from('definitely not audio'), transcriber).catch(
      (e: unknown) => e,
    )) as HubError;
    expect(garbage.code).toBe('AUDIO_UNREADABLE');
    expect(await readdir(privateTmp)).toEqual([]);
  });

  it('builds a podcast that lasts the sum of its parts and silences', async () => {
    const parts = [
      { speaker: 'Ann', text: 'Welcome to the show.' },
      { speaker: 'Bob', text: 'Thanks, glad to be here today.' },
      { speaker: 'Ann', text: 'Let us begin.' },
    ];
    const speakers = [
      { name: 'Ann', voice: 'en-us+f3', rate: 1.1 },
      { name: 'Bob', voice: 'en-gb', rate: 0.9 },
    ];
    let partsSec = 0;
    for (const part of parts) {
      const speaker = speakers.find((s) => s.name === part.speaker)!;
      partsSec += (await synthesizeSpeech(part.text, synthesizer, speaker)).durationSec;
    }
    const progress: number[] = [];
    const podcast = await createPodcast({ speakers, parts, pauseMs: 700, format: 'wav' }, synthesizer, {
      onProgress: (_stage, percent) => progress.push(percent),
    });
    expect(podcast.partCount).toBe(3);
    expect(podcast.durationSec).toBeCloseTo(partsSec + 2 * 0.7, 1);
    expect(progress.at(-1)).toBe(100);
    expect(await readdir(privateTmp)).toEqual([]);
  }, 60_000);

  it('removes its temp files when a podcast fails half way', async () => {
    const failing = createPodcast(
      {
        speakers: [
          { name: 'Ann', voice: 'en-us' },
          { name: 'Zed', voice: 'no-such-voice' },
        ],
        parts: [
          { speaker: 'Ann', text: 'First part works.' },
          { speaker: 'Zed', text: 'This one cannot be spoken.' },
        ],
      },
      synthesizer,
    );
    const err = (await failing.catch((e: unknown) => e)) as HubError;
    expect(err).toBeInstanceOf(HubError);
    expect(err.code).toBe('SPEECH_BAD_VOICE');
    expect(await readdir(privateTmp)).toEqual([]);
    const unknown = (await createPodcast(
      { speakers: [], parts: [{ speaker: 'Nobody', text: 'hi' }] },
      synthesizer,
    ).catch((e: unknown) => e)) as HubError;
    expect(unknown.code).toBe('PODCAST_UNKNOWN_SPEAKER');
  }, 60_000);
});
