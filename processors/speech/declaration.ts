import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import type { TopicDeclaration } from '../../platform/declaration.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { createMediaService, PROGRESS_TOPIC, PROGRESS_TYPE } from '../shared/media-service.ts';
import {
  createSpeechJobs,
  PODCAST_REQUEST_TOPIC,
  PODCAST_RESULT_TOPIC,
  SPEECH_REQUEST_TOPIC,
  SPEECH_RESULT_TOPIC,
  type SpeechConfig,
  speechConfigSchema,
} from './job.ts';

const week = 7 * 24 * 3600 * 1000;

const jobTopic = (
  name: string,
  valueSchema: string,
  description: string,
  request: boolean,
): TopicDeclaration => ({
  name,
  description,
  valueSchema,
  keyType: 'string',
  partitions: 3,
  cleanupPolicy: 'delete',
  retentionMs: week,
  ...(request ? { deadLetter: true } : {}),
});

/**
 * processor.speech: text to speech and podcasts. It also owns `media.job.progress`, the topic
 * every media processor reports long-job progress on (a topic has exactly one owner).
 */
export const speechProcessorDeclaration = declareComponent<SpeechConfig>({
  name: 'processor.speech',
  kind: 'processor',
  description:
    'Speaks text (offline espeak-ng, or OpenAI TTS voices) and builds podcasts: one synthesis per part, silence between parts, joined by ffmpeg.',
  config: speechConfigSchema,
  topics: [
    jobTopic(
      SPEECH_REQUEST_TOPIC,
      'tributary.media.SpeechSynthesizeRequest',
      'Speech synthesis requests.',
      true,
    ),
    jobTopic(
      SPEECH_RESULT_TOPIC,
      'tributary.media.SpeechSynthesizeResult',
      'Synthesised speech as blob references.',
      false,
    ),
    jobTopic(
      PODCAST_REQUEST_TOPIC,
      'tributary.media.PodcastCreateRequest',
      'Podcast scripts: speakers and their parts.',
      true,
    ),
    jobTopic(
      PODCAST_RESULT_TOPIC,
      'tributary.media.PodcastCreateResult',
      'Built podcasts as blob references.',
      false,
    ),
    {
      name: PROGRESS_TOPIC,
      description:
        'Progress of long media jobs of every processor, keyed like the request, so callers can follow them.',
      valueSchema: PROGRESS_TYPE,
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 24 * 3600 * 1000,
    },
  ],
  produces: [SPEECH_RESULT_TOPIC, PODCAST_RESULT_TOPIC, PROGRESS_TOPIC, ACTIONS_TOPIC],
  consumes: [SPEECH_REQUEST_TOPIC, PODCAST_REQUEST_TOPIC],
  commands: [
    {
      name: 'speech.synthesize',
      title: 'Speak text',
      description: 'Turn text into speech (WAV, MP3 or Ogg) with a chosen voice and speed.',
      topic: SPEECH_REQUEST_TOPIC,
      resultTopic: SPEECH_RESULT_TOPIC,
      mutating: false,
    },
    {
      name: 'podcast.create',
      title: 'Build a podcast',
      description:
        "Build one audio file from a script of speakers and their parts: each part spoken in its speaker's voice, with silence between parts.",
      topic: PODCAST_REQUEST_TOPIC,
      resultTopic: PODCAST_RESULT_TOPIC,
      mutating: false,
    },
  ],
  create(config, deps) {
    const jobs = createSpeechJobs(config);
    return createMediaService([jobs.speech, jobs.podcast], config, deps, { name: 'processor.speech' });
  },
});
