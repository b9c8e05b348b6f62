import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { createMediaService, PROGRESS_TOPIC } from '../shared/media-service.ts';
import {
  AUDIO_REQUEST_TOPIC,
  AUDIO_RESULT_TOPIC,
  type AudioConfig,
  audioConfigSchema,
  createAudioJob,
} from './job.ts';

/** processor.audio: transcribes audio (with word times and sentiment) from `media.audio.transcribe.req`. */
export const audioProcessorDeclaration = declareComponent<AudioConfig>({
  name: 'processor.audio',
  kind: 'processor',
  description:
    'Transcribes audio of any format (converted to 16 kHz mono by ffmpeg), with word times and optional sentiment. Offline: pocketsphinx with hint grammars and a lexicon; OpenAI: transcription and chat models.',
  config: audioConfigSchema,
  topics: [
    {
      name: AUDIO_REQUEST_TOPIC,
      description: 'Transcription requests; the audio travels as a blob reference (claim check).',
      valueSchema: 'tributary.media.AudioTranscribeRequest',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
      deadLetter: true,
    },
    {
      name: AUDIO_RESULT_TOPIC,
      description: 'Transcripts, matched to requests by correlation id.',
      valueSchema: 'tributary.media.AudioTranscribeResult',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
    },
  ],
  produces: [AUDIO_RESULT_TOPIC, PROGRESS_TOPIC, ACTIONS_TOPIC],
  consumes: [AUDIO_REQUEST_TOPIC],
  commands: [
    {
      name: 'audio.transcribe',
      title: 'Transcribe audio',
      description:
        'Transcribe a recording (any format) with optional vocabulary hints, word timestamps where the provider gives them, and optional sentiment and emotions.',
      topic: AUDIO_REQUEST_TOPIC,
      resultTopic: AUDIO_RESULT_TOPIC,
      mutating: false,
    },
  ],
  create(config, deps) {
    const job = createAudioJob(config);
    return createMediaService([job.spec], config, deps, { name: 'processor.audio' });
  },
});
