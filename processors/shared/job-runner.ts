import { z } from 'zod';
import { breakerSettingsSchema, createBreaker } from '../../core/breaker.ts';
import { HubError, toHubError } from '../../core/errors.ts';
import { withSpan } from '../../platform/index.ts';

export const jobRunnerSettingsSchema = z.object({
  maxConcurrent: z.number().int().min(1).max(64).default(2).describe('Jobs running at the same time'),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(120_000)
    .describe('Longest one job may take before it is aborted'),
  breaker: breakerSettingsSchema({ unit: 'calls', resetTimeoutMs: 30_000, rollingWindowMs: 60_000 }).describe(
    'Circuit breaker around the provider',
  ),
});

export type JobRunnerSettings = z.infer<typeof jobRunnerSettingsSchema>;
export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface JobRunnerHooks {
  /** Called with true when every slot is taken and with false when one frees again. */
  onSaturated?(full: boolean): void;
  onBreaker?(state: BreakerState): void;
}

type Work = (signal: AbortSignal) => Promise<unknown>;

/**
 * Runs provider jobs with bounded concurrency, a timeout per job (the job's AbortSignal fires
 * and the call fails with a retriable PROCESSOR_TIMEOUT) and an opossum circuit breaker.
 * Only failures of the provider count against the breaker: a non-retriable HubError (a bad
 * input) says nothing about the provider's health. The hooks let the caller pause its
 * consumer while the pool is full or the breaker is open, instead of buffering.
 */
export function createJobRunner(
  name: string,
  settings: Partial<JobRunnerSettings> = {},
  hooks: JobRunnerHooks = {},
) {
  const s = jobRunnerSettingsSchema.parse(settings);
  let active = 0;
  const waiting: (() => void)[] = [];
  let closed = false;
  const counts = { succeeded: 0, failed: 0, timedOut: 0, rejectedOpen: 0 };

  const withTimeout = async (work: Work, outer: AbortSignal | undefined): Promise<unknown> => {
    const timer = new AbortController();
    const timeout = setTimeout(() => {
      counts.timedOut += 1;
      timer.abort(
        new HubError('PROCESSOR_TIMEOUT', `${name} job took longer than ${s.timeoutMs} ms`, {
          retriable: true,
          hint: 'raise the processor timeoutMs for big inputs',
        }),
      );
    }, s.timeoutMs);
    const signal = outer ? AbortSignal.any([timer.signal, outer]) : timer.signal;
    try {
      return await Promise.race([
        work(signal),
        new Promise<never>((_, reject) => {
          const fail = () => reject(toHubError(signal.reason, 'PROCESSOR_ABORTED'));
          if (signal.aborted) fail();
          else signal.addEventListener('abort', fail, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timeout);
    }
  };

  const breaker = createBreaker(name, withTimeout, s.breaker);
  breaker.on('open', () => hooks.onBreaker?.('open'));
  breaker.on('halfOpen', () => hooks.onBreaker?.('halfOpen'));
  breaker.on('close', () => hooks.onBreaker?.('closed'));

  const acquire = async () => {
    while (active >= s.maxConcurrent) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    if (active === s.maxConcurrent) hooks.onSaturated?.(true);
  };
  const release = () => {
    const wasFull = active === s.maxConcurrent;
    active -= 1;
    if (wasFull) hooks.onSaturated?.(false);
    waiting.shift()?.();
  };

  return {
    /** Runs one job inside the pool, the timeout and the breaker; errors come back as HubErrors. */
    async run<T>(work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (closed) throw new HubError('PROCESSOR_CLOSED', `${name} is closed`);
      await acquire();
      try {
        // A span per job, in the trace of the request it serves (the consumer made it active).
        const attributes = { 'tributary.processor': name };
        const result = await withSpan(
          `job ${name}`,
          { attributes },
          async () => (await breaker.fire(work, signal)) as T,
        );
        counts.succeeded += 1;
        return result;
      } catch (err) {
        counts.failed += 1;
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          counts.rejectedOpen += 1;
          throw new HubError('PROVIDER_UNAVAILABLE', `${name}: the provider's circuit breaker is open`, {
            cause: err,
            retriable: true,
            hint: 'the provider failed repeatedly; the processor retries after the breaker reset time',
          });
        }
        throw toHubError(err, 'PROCESSOR_FAILED');
      } finally {
        release();
      }
    },
    status() {
      return {
        active,
        maxConcurrent: s.maxConcurrent,
        breaker: breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed',
        ...counts,
      };
    },
    close() {
      closed = true;
      breaker.shutdown();
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
