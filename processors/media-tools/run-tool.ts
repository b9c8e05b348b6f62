import { spawn } from 'node:child_process';
import { HubError } from '../../core/errors.ts';

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  input?: Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Error code used when the tool exits non-zero. */
  failureCode?: string;
}

/**
 * Runs a command-line tool without a shell (arguments are never interpolated), collects its
 * output, and turns a missing binary, a timeout or a non-zero exit into a HubError that quotes
 * the tail of stderr.
 */
export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      if (err.length > 64_000) err = err.slice(-32_000);
    });
    child.stdin.on('error', () => {
      // The tool may exit before reading all input (e.g. it rejected the format); the exit code says why.
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new HubError('TOOL_MISSING', `${command} is not installed or not on PATH`, {
            cause: error,
            hint: `install it (Debian: apt-get install ${debianPackageOf(command)})`,
          }),
        );
      } else if (error.name === 'AbortError') {
        reject(new HubError('TOOL_ABORTED', `${command} was aborted`, { cause: error, retriable: true }));
      } else {
        reject(new HubError('TOOL_FAILED', `${command} could not run: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out), stderr: err });
        return;
      }
      const timedOut = signal === 'SIGKILL' && options.timeoutMs !== undefined;
      const tail = err.trim().split('\n').slice(-3).join(' | ');
      reject(
        new HubError(
          timedOut ? 'TOOL_TIMEOUT' : (options.failureCode ?? 'TOOL_FAILED'),
          timedOut
            ? `${command} took longer than ${options.timeoutMs} ms`
            : `${command} exited with ${code ?? signal}: ${tail || 'no error output'}`,
          { retriable: timedOut },
        ),
      );
    });
    if (options.input) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

function debianPackageOf(command: string): string {
  if (command === 'ffprobe') return 'ffmpeg';
  if (command.startsWith('pocketsphinx')) return 'pocketsphinx pocketsphinx-en-us';
  return command;
}
