import CircuitBreaker from 'opossum';
import { z } from 'zod';
import { HubError } from './errors.ts';

/**
 * The one place the hub builds a circuit breaker (opossum): the connectors' endpoints and the
 * processors' providers. Only failures of what the breaker guards count against it: a
 * non-retriable HubError (a 4xx, a bad input) says nothing about the other side's health.
 */

export type Breaker<A extends unknown[], R> = CircuitBreaker<A, R>;

/**
 * The breaker section of a component's config. `unit` names what passes through it
 * (`requests` to an endpoint, `calls` to a provider); the two timings differ by use.
 */
export function breakerSettingsSchema(defaults: {
  unit: 'requests' | 'calls';
  resetTimeoutMs: number;
  rollingWindowMs: number;
}) {
  const { unit, resetTimeoutMs, rollingWindowMs } = defaults;
  return z
    .object({
      errorThresholdPercentage: z
        .number()
        .min(1)
        .max(100)
        .default(50)
        .describe('Failure share that opens the breaker'),
      volumeThreshold: z
        .number()
        .int()
        .min(1)
        .default(5)
        .describe(`${unit === 'requests' ? 'Requests' : 'Calls'} in the window before the breaker may open`),
      resetTimeoutMs: z
        .number()
        .int()
        .positive()
        .default(resetTimeoutMs)
        .describe(`Time open before a trial ${unit === 'requests' ? 'request' : 'call'}`),
      rollingWindowMs: z
        .number()
        .int()
        .positive()
        .default(rollingWindowMs)
        .describe('Window the failure share is measured in'),
    })
    .default({ errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs, rollingWindowMs });
}

export type BreakerSettings = z.infer<ReturnType<typeof breakerSettingsSchema>>;

/** A breaker around `action` with these settings; no timeout of its own (callers bound their work). */
export function createBreaker<A extends unknown[], R>(
  name: string,
  action: (...args: A) => Promise<R>,
  settings: BreakerSettings,
): Breaker<A, R> {
  return new CircuitBreaker(action, {
    name,
    timeout: false,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    volumeThreshold: settings.volumeThreshold,
    resetTimeout: settings.resetTimeoutMs,
    rollingCountTimeout: settings.rollingWindowMs,
    errorFilter: (err: unknown) => err instanceof HubError && !err.retriable,
  });
}
