import { z } from 'zod';

/** How the HTTP client retries transient failures (5xx, 429, timeouts, resets). */
export const httpRetrySchema = z
  .object({
    retries: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe('Retries after the first attempt of a transient failure'),
    initialDelayMs: z.number().int().positive().default(200).describe('Base delay before the first retry'),
    maxDelayMs: z.number().int().positive().default(15_000).describe('Upper bound of one backoff delay'),
    maxRetryAfterMs: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe('Longest Retry-After the client honours; a longer one fails the attempt as retriable'),
  })
  .default({ retries: 5, initialDelayMs: 200, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 });

export type HttpRetry = z.infer<typeof httpRetrySchema>;

/** Exponential backoff with "equal jitter": half the step fixed, half random, so clients spread out. */
export function backoffWithJitter(
  retry: HttpRetry,
  attempt: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** Milliseconds a Retry-After header asks for (delta-seconds or HTTP-date), or undefined. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Waits `ms`, or less when `signal` aborts (then it rejects with the abort reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
