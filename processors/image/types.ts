/** Shapes shared by image providers; they mirror `tributary.media.ImageAnalyzeResult`. */

export type ImageAnalysis = 'describe' | 'objects' | 'text';
export type RequestedAnalysis = ImageAnalysis | 'all';
export type AnalysisStatus = 'succeeded' | 'failed' | 'unsupported';

export interface ImageFacts {
  width: number;
  height: number;
  format: string;
  orientation: number | null;
  hasAlpha: boolean;
  /** Most frequent colours as #rrggbb, most frequent first. */
  dominantColours: string[];
  exif: Record<string, string>;
}

/** The image after preprocessing: what providers see. */
export interface PreparedImage {
  jpeg: Buffer;
  width: number;
  height: number;
  facts: ImageFacts;
}

export interface DescribeOutcome {
  status: AnalysisStatus;
  text: string | null;
  reason: string | null;
}

export interface DetectedObject {
  name: string;
  confidence: number;
  /** Fractions (0..1) of the prepared image's width and height. */
  box: { x: number; y: number; width: number; height: number };
}

export interface ObjectsOutcome {
  status: AnalysisStatus;
  objects: DetectedObject[];
  reason: string | null;
}

export interface TextOutcome {
  status: AnalysisStatus;
  /** Lines separated by `\n`, paragraphs by a blank line. */
  text: string | null;
  confidence: number | null;
  reason: string | null;
}

export interface AnalyzeOptions {
  prompt?: string | null;
  language?: string | null;
  signal?: AbortSignal;
}

/** An image provider. A provider that cannot do an analysis returns status `unsupported`, never made-up output. */
export interface ImageProvider {
  readonly name: string;
  readonly model: string | null;
  describe(image: PreparedImage, options: AnalyzeOptions): Promise<DescribeOutcome>;
  objects(image: PreparedImage, options: AnalyzeOptions): Promise<ObjectsOutcome>;
  text(image: PreparedImage, options: AnalyzeOptions): Promise<TextOutcome>;
  close(): Promise<void>;
}

export interface ImageAnalysisResult {
  provider: string;
  model: string | null;
  facts: ImageFacts;
  describe: DescribeOutcome | null;
  objects: ObjectsOutcome | null;
  text: TextOutcome | null;
}
