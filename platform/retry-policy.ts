import { z } from 'zod';

/** How a consumer retries a retriable failure before it gives the record to the DLQ. */
export const retryPolicySchema = z.object({
  retries: z
    .number()
    .int()
    .min(0)
    .default(5)
    .describe('Retries after the first attempt of a retriable failure'),
  initialDelayMs: z.number().int().positive().default(200).describe('Delay before the first retry'),
  maxDelayMs: z.number().int().positive().default(10_000).describe('Upper bound of one delay'),
});

export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** Exponential backoff with jitter (50-100% of the step), so retrying members don't move in lockstep. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random() * 0.5));
}

/** Waits `ms` unless `signal` aborts first; resolves false when it was cut short. */
export function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves as `promise` does, or rejects with `timeoutError()` after `ms`; the timer never outlives it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
