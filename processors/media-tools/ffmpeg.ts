import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../../core/errors.ts';
import { runTool } from './run-tool.ts';
import { withTempDir } from './temp-dir.ts';

/**
 * The one module that talks to ffmpeg and ffprobe. We call the binaries directly through
 * child_process: fluent-ffmpeg (named in the issue) is archived and its maintainer advises
 * calling ffmpeg directly, which also keeps argument handling explicit (no shell).
 */

export interface MediaToolOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProbeResult {
  durationSec: number;
  formatName: string;
  audioStreams: number;
  sampleRate: number | undefined;
  channels: number | undefined;
}

/** Reads duration, container and first audio stream facts of a media file with ffprobe. */
export async function probeMedia(path: string, options: MediaToolOptions = {}): Promise<ProbeResult> {
  const { stdout } = await runTool(
    options.ffprobePath ?? 'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path],
    { timeoutMs: options.timeoutMs ?? 30_000, signal: options.signal, failureCode: 'MEDIA_UNREADABLE' },
  );
  const info = JSON.parse(stdout.toString('utf8')) as {
    format?: { duration?: string; format_name?: string };
    streams?: { codec_type?: string; sample_rate?: string; channels?: number }[];
  };
  const audio = (info.streams ?? []).filter((s) => s.codec_type === 'audio');
  return {
    durationSec: Number(info.format?.duration ?? Number.NaN),
    formatName: info.format?.format_name ?? 'unknown',
    audioStreams: audio.length,
    sampleRate: audio[0]?.sample_rate ? Number(audio[0].sample_rate) : undefined,
    channels: audio[0]?.channels,
  };
}

/** Converts a media file to 16-bit PCM WAV, mono, at `sampleRate` (16 kHz by default). */
export async function convertToWav(
  inputPath: string,
  outputPath: string,
  options: MediaToolOptions & { sampleRate?: number } = {},
): Promise<void> {
  await runTool(
    options.ffmpegPath ?? 'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-i',
      inputPath,
      '-vn',
      '-ac',
      '1',
      '-ar',
      String(options.sampleRate ?? 16_000),
      '-c:a',
      'pcm_s16le',
      '-f',
      'wav',
      outputPath,
    ],
    { timeoutMs: options.timeoutMs ?? 120_000, signal: options.signal, failureCode: 'MEDIA_UNREADABLE' },
  );
}

/** Converts any audio bytes to 16 kHz mono WAV bytes; empty or unreadable input is a HubError. */
export async function toWav16kMono(input: Uint8Array, options: MediaToolOptions = {}): Promise<Buffer> {
  if (input.byteLength === 0) {
    throw new HubError('AUDIO_EMPTY', 'the audio is empty (0 bytes)', {
      where: { field: 'audio' },
      hint: 'send a recording with at least one audio frame',
    });
  }
  return withTempDir('wav', async (dir) => {
    const source = join(dir, 'input');
    const target = join(dir, 'output.wav');
    await writeFile(source, input);
    const probe = await probeMedia(source, options).catch((err: unknown) => {
      throw new HubError(
        'AUDIO_UNREADABLE',
        'the audio could not be read by ffprobe (corrupt or not audio)',
        {
          cause: err,
          where: { field: 'audio' },
        },
      );
    });
    if (probe.audioStreams === 0) {
      throw new HubError('AUDIO_NO_STREAM', `the input (${probe.formatName}) has no audio stream`, {
        where: { field: 'audio' },
      });
    }
    await convertToWav(source, target, options);
    return readFile(target);
  });
}

/** Writes `seconds` of silence as mono PCM WAV at `sampleRate`. */
export async function writeSilence(
  outputPath: string,
  seconds: number,
  options: MediaToolOptions & { sampleRate?: number } = {},
): Promise<void> {
  const rate = options.sampleRate ?? 22_050;
  await runTool(
    options.ffmpegPath ?? 'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `anullsrc=r=${rate}:cl=mono`,
      '-t',
      seconds.toFixed(3),
      '-c:a',
      'pcm_s16le',
      outputPath,
    ],
    { timeoutMs: options.timeoutMs ?? 60_000, signal: options.signal },
  );
}

export type AudioContainer = 'wav' | 'mp3' | 'ogg';

const encoders: Record<AudioContainer, string[]> = {
  wav: ['-c:a', 'pcm_s16le', '-f', 'wav'],
  mp3: ['-c:a', 'libmp3lame', '-q:a', '4', '-f', 'mp3'],
  ogg: ['-c:a', 'libvorbis', '-q:a', '4', '-f', 'ogg'],
};

/**
 * Joins audio files end to end into one file. Inputs may differ in rate or channels: each is
 * resampled to `sampleRate` mono before the concat filter, so parts from different voices fit.
 */
export async function concatAudio(
  inputPaths: string[],
  outputPath: string,
  options: MediaToolOptions & { sampleRate?: number; container?: AudioContainer } = {},
): Promise<void> {
  if (inputPaths.length === 0) throw new HubError('MEDIA_NOTHING_TO_JOIN', 'no audio parts to join');
  const rate = options.sampleRate ?? 22_050;
  const inputs = inputPaths.flatMap((p) => ['-i', p]);
  const prepared = inputPaths.map((_, i) => `[${i}:a]aresample=${rate},aformat=channel_layouts=mono[a${i}]`);
  const joined = `${inputPaths.map((_, i) => `[a${i}]`).join('')}concat=n=${inputPaths.length}:v=0:a=1[out]`;
  await runTool(
    options.ffmpegPath ?? 'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      ...inputs,
      '-filter_complex',
      [...prepared, joined].join(';'),
      '-map',
      '[out]',
      ...encoders[options.container ?? 'wav'],
      outputPath,
    ],
    { timeoutMs: options.timeoutMs ?? 300_000, signal: options.signal },
  );
}
