import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `bin/tributary <args>` as a child process, for tests of the runners as users start them. */
const root = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(root, 'bin', 'tributary');

export interface CliProcess {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Waits until `pattern` matches stdout or stderr; fails naming the output when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited(): Promise<number | null>;
  /** The base URL of health and metrics the runner printed. */
  opsUrl(timeoutMs?: number): Promise<string>;
}

/** Starts the CLI with `args` in `cwd` and `env`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd = root): CliProcess {
  const proc = spawn(cliPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exit = new Promise<number | null>((done) =>
    proc.exitCode !== null || proc.signalCode !== null
      ? done(proc.exitCode)
      : proc.once('exit', (code) => done(code)),
  );
  const self: CliProcess = {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    async waitFor(pattern, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      let ended = false;
      void exit.then(() => {
        ended = true;
      });
      for (;;) {
        const m = pattern.exec(out) ?? pattern.exec(err);
        if (m) return m;
        if (ended || Date.now() > deadline)
          throw new Error(
            `${args.join(' ')}: ${ended ? `exited (${proc.exitCode})` : 'timed out'} before ${pattern}\nstdout: ${out.slice(-3000)}\nstderr: ${err.slice(-3000)}`,
          );
        await sleep(100);
      }
    },
    async opsUrl(timeoutMs) {
      const m = await self.waitFor(/health\/metrics: (http:\/\/\S+)\/healthz/, timeoutMs);
      return m[1] as string;
    },
  };
  return self;
}

/** Runs the CLI to its end; resolves with its exit code and output. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startCli(args, env);
  const code = await p.exited();
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Keys written twice in one JSON object of `text` (at any depth), e.g. `component` on a pino
 * line whose child logger was given it again. JSON.parse keeps the last value silently; this
 * scans the text itself. Throws on text that is not one JSON value.
 */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const dups: string[] = [];
  const ws = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error(`unterminated string at ${start}`);
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        if (seen.has(key)) dups.push(key);
        seen.add(key);
        ws();
        if (text[i++] !== ':') throw new Error(`expected : at ${i - 1}`);
        value();
        ws();
        const next = text[i++];
        if (next === '}') return;
        if (next !== ',') throw new Error(`expected , or } at ${i - 1}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        const next = text[i++];
        if (next === ']') return;
        if (next !== ',') throw new Error(`expected , or ] at ${i - 1}`);
      }
    }
    if (c === '"') {
      str();
      return;
    }
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected ${c} at ${i}`);
    i += m[0].length;
  };
  value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return dups;
}

/** The JSON log lines of a process's stderr (pino lines start with `{`), each with its duplicated keys. */
export function logLinesWithDuplicates(stderr: string): {
  lines: number;
  bad: { line: string; keys: string[] }[];
} {
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  const bad = lines.map((line) => ({ line, keys: duplicateKeys(line) })).filter((b) => b.keys.length > 0);
  return { lines: lines.length, bad };
}
