import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { type BreakerState, createJobRunner } from '../../processors/shared/job-runner.ts';

const breaker = {
  errorThresholdPercentage: 50,
  volumeThreshold: 2,
  resetTimeoutMs: 300,
  rollingWindowMs: 10_000,
};

describe('job runner (bounded pool, timeout, opossum breaker)', () => {
  it('reports a full pool so the consumer can pause, and never runs more than the bound', async () => {
    const saturation: boolean[] = [];
    const runner = createJobRunner(
      't',
      { maxConcurrent: 2, timeoutMs: 5_000, breaker },
      {
        onSaturated: (full) => saturation.push(full),
      },
    );
    let running = 0;
    let peak = 0;
    const job = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
      return 'ok';
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => runner.run(job)));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(peak).toBe(2);
    expect(saturation[0]).toBe(true);
    expect(saturation.at(-1)).toBe(false);
    runner.close();
  });

  it('aborts a job that outlives its timeout with a retriable error', async () => {
    const runner = createJobRunner('t', { maxConcurrent: 1, timeoutMs: 100, breaker });
    let aborted = false;
    const err = (await runner
      .run(
        (signal) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
            setTimeout(resolve, 2_000);
          }),
      )
      .catch((e: unknown) => e)) as HubError;
    expect([err.code, err.retriable, aborted]).toEqual(['PROCESSOR_TIMEOUT', true, true]);
    runner.close();
  });

  it('opens the breaker on provider failures only, then lets a trial through', async () => {
    const states: BreakerState[] = [];
    const runner = createJobRunner(
      't',
      { maxConcurrent: 1, timeoutMs: 1_000, breaker },
      {
        onBreaker: (s) => states.push(s),
      },
    );
    const badInput = () => Promise.reject(new HubError('IMAGE_UNREADABLE', 'bad input'));
    for (let i = 0; i < 4; i++) {
      expect(((await runner.run(badInput).catch((e: unknown) => e)) as HubError).code).toBe(
        'IMAGE_UNREADABLE',
      );
    }
    expect(runner.status().breaker).toBe('closed');
    const providerDown = () =>
      Promise.reject(new HubError('PROVIDER_SERVER_ERROR', 'down', { retriable: true }));
    // The bad inputs counted as healthy calls: 5 failures of 9 calls pass the 50% threshold.
    for (let i = 0; i < 5; i++) await runner.run(providerDown).catch(() => undefined);
    expect(runner.status().breaker).toBe('open');
    const rejected = (await runner.run(async () => 'never').catch((e: unknown) => e)) as HubError;
    expect([rejected.code, rejected.retriable]).toEqual(['PROVIDER_UNAVAILABLE', true]);
    await expect.poll(() => runner.status().breaker, { timeout: 3_000 }).toBe('halfOpen');
    expect(await runner.run(async () => 'back')).toBe('back');
    expect(states).toEqual(['open', 'halfOpen', 'closed']);
    runner.close();
  });
});
