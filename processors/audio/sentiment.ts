import { createRequire } from 'node:module';
import type OpenAI from 'openai';
import { z } from 'zod';
import { mapOpenAiError, parseModelJson } from '../shared/openai-client.ts';
import type { SentimentAnalyzer, SentimentOutcome } from './types.ts';

const require = createRequire(import.meta.url);

interface LexiconResult {
  score: number;
  positive: string[];
  negative: string[];
}

const labelOf = (score: number): SentimentOutcome['label'] =>
  score > 0.05 ? 'positive' : score < -0.05 ? 'negative' : 'neutral';

/**
 * Offline sentiment with the AFINN lexicon (`sentiment` package). The score is the mean
 * strength of the words that carry sentiment, scaled from AFINN's -5..5 to -1..1. A lexicon
 * has no emotions, so `emotions` stays empty and the reason says so.
 */
export function createLexiconSentiment(): SentimentAnalyzer {
  const Sentiment = require('sentiment') as new () => { analyze(text: string): LexiconResult };
  const analyser = new Sentiment();
  return {
    name: 'offline',
    async analyze(text, options) {
      if (options.language && !options.language.toLowerCase().startsWith('en')) {
        return {
          status: 'unsupported',
          score: null,
          label: null,
          emotions: {},
          reason: 'the lexicon is English only',
        };
      }
      const result = analyser.analyze(text);
      const hits = result.positive.length + result.negative.length;
      const score = hits === 0 ? 0 : Math.max(-1, Math.min(1, result.score / hits / 5));
      return {
        status: 'succeeded',
        score,
        label: labelOf(score),
        emotions: {},
        reason: 'emotions are not supported by the lexicon analyser',
      };
    },
  };
}

const emotionNames = ['joy', 'sadness', 'anger', 'fear', 'surprise', 'disgust'] as const;

const sentimentSchema = z.object({
  score: z.number().min(-1).max(1),
  label: z.enum(['negative', 'neutral', 'positive']),
  emotions: z.object(Object.fromEntries(emotionNames.map((e) => [e, z.number().min(0).max(1)]))),
});

/** The JSON schema sent as `response_format` for sentiment. */
export const sentimentJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['score', 'label', 'emotions'],
  properties: {
    score: { type: 'number', description: 'Polarity from -1 (negative) to 1 (positive)' },
    label: { type: 'string', enum: ['negative', 'neutral', 'positive'] },
    emotions: {
      type: 'object',
      additionalProperties: false,
      required: [...emotionNames],
      properties: Object.fromEntries(
        emotionNames.map((e) => [e, { type: 'number', description: 'Strength 0..1' }]),
      ),
    },
  },
} as const;

/** Sentiment and emotions by an OpenAI chat model through structured JSON output. */
export function createOpenAiSentiment(
  client: OpenAI,
  options: { model: string; timeoutMs: number },
): SentimentAnalyzer {
  return {
    name: 'openai',
    async analyze(text, analyzeOptions) {
      let content: string | null | undefined;
      try {
        const completion = await client.chat.completions.create(
          {
            model: options.model,
            messages: [
              {
                role: 'system',
                content: 'Rate the sentiment and emotions of the transcript the user sends.',
              },
              { role: 'user', content: text },
            ],
            response_format: {
              type: 'json_schema',
              json_schema: { name: 'transcript_sentiment', strict: true, schema: sentimentJsonSchema },
            },
          },
          { timeout: options.timeoutMs, signal: analyzeOptions.signal ?? null },
        );
        content = completion.choices?.[0]?.message?.content;
      } catch (err) {
        throw mapOpenAiError(err, 'audio.sentiment');
      }
      const parsed = parseModelJson(content, sentimentSchema, 'audio.sentiment');
      return {
        status: 'succeeded',
        ...parsed,
        emotions: parsed.emotions as Record<string, number>,
        reason: null,
      };
    },
  };
}
