import { ACTIONS_TOPIC } from '../../platform/actions.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { createMediaService, PROGRESS_TOPIC } from '../shared/media-service.ts';
import {
  createImageJob,
  IMAGE_REQUEST_TOPIC,
  IMAGE_RESULT_TOPIC,
  type ImageConfig,
  imageConfigSchema,
} from './job.ts';

/** processor.image: analyses images (describe, objects, OCR) from `media.image.analyze.req`. */
export const imageProcessorDeclaration = declareComponent<ImageConfig>({
  name: 'processor.image',
  kind: 'processor',
  description:
    'Analyses images: describe, objects and text (OCR keeping layout). Offline: tesseract.js and image facts; OpenAI: a vision model.',
  config: imageConfigSchema,
  topics: [
    {
      name: IMAGE_REQUEST_TOPIC,
      description: 'Image analysis requests; the image travels as a blob reference (claim check).',
      valueSchema: 'tributary.media.ImageAnalyzeRequest',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
      deadLetter: true,
    },
    {
      name: IMAGE_RESULT_TOPIC,
      description: 'Image analysis results, matched to requests by correlation id.',
      valueSchema: 'tributary.media.ImageAnalyzeResult',
      keyType: 'string',
      partitions: 3,
      cleanupPolicy: 'delete',
      retentionMs: 7 * 24 * 3600 * 1000,
    },
  ],
  produces: [IMAGE_RESULT_TOPIC, PROGRESS_TOPIC, ACTIONS_TOPIC],
  consumes: [IMAGE_REQUEST_TOPIC],
  commands: [
    {
      name: 'image.analyze',
      title: 'Analyse an image',
      description:
        'Describe an image, list its objects with boxes, or read its text (OCR keeping the layout); "all" runs the three at once. Unsupported analyses come back marked unsupported.',
      topic: IMAGE_REQUEST_TOPIC,
      resultTopic: IMAGE_RESULT_TOPIC,
      mutating: false,
    },
  ],
  create(config, deps) {
    const job = createImageJob(config);
    return createMediaService([job.spec], config, deps, { name: 'processor.image', onClose: job.close });
  },
});
