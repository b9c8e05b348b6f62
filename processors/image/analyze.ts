import { HubError } from '../../core/errors.ts';
import { prepareImage } from './preprocess.ts';
import type {
  AnalysisStatus,
  AnalyzeOptions,
  ImageAnalysis,
  ImageAnalysisResult,
  ImageProvider,
  RequestedAnalysis,
} from './types.ts';

/** Expands `all` to describe, objects and text; keeps order and drops repeats. */
export function expandAnalyses(requested: RequestedAnalysis[]): ImageAnalysis[] {
  if (requested.length === 0) {
    throw new HubError('IMAGE_NO_ANALYSIS', 'no analysis requested', {
      where: { field: 'analyses' },
      hint: 'ask for describe, objects, text or all',
    });
  }
  const all: ImageAnalysis[] = ['describe', 'objects', 'text'];
  return [...new Set(requested.flatMap((a) => (a === 'all' ? all : [a])))];
}

const failed = (err: unknown) => ({
  status: 'failed' as AnalysisStatus,
  reason: err instanceof HubError ? `${err.code}: ${err.message}` : String(err),
});

/**
 * Preprocesses the image and runs the requested analyses concurrently. An analysis that fails
 * for good is reported as failed next to the others; a retriable failure (rate limit, timeout)
 * is thrown so the whole job is retried.
 */
export async function analyzeImage(
  bytes: Uint8Array,
  requested: RequestedAnalysis[],
  provider: ImageProvider,
  options: AnalyzeOptions = {},
): Promise<ImageAnalysisResult> {
  const analyses = expandAnalyses(requested);
  const image = await prepareImage(bytes);
  const guard = async <T>(run: () => Promise<T>, onError: (err: unknown) => T): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof HubError && err.retriable) throw err;
      return onError(err);
    }
  };
  const [describe, objects, text] = await Promise.all([
    analyses.includes('describe')
      ? guard(
          () => provider.describe(image, options),
          (err) => ({ ...failed(err), text: null }),
        )
      : null,
    analyses.includes('objects')
      ? guard(
          () => provider.objects(image, options),
          (err) => ({ ...failed(err), objects: [] }),
        )
      : null,
    analyses.includes('text')
      ? guard(
          () => provider.text(image, options),
          (err) => ({ ...failed(err), text: null, confidence: null }),
        )
      : null,
  ]);
  return { provider: provider.name, model: provider.model, facts: image.facts, describe, objects, text };
}
