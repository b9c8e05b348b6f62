import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';

async function logged(
  write: (logger: ReturnType<typeof createLogger>) => void,
): Promise<Record<string, unknown>> {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = createLogger('logger-test', { destination: stream });
  write(logger);
  logger.flush();
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('createLogger', () => {
  it("logs an error's cause as an object of its own, so a message that names its cause does not repeat it", async () => {
    const cause = new HubError('PROVIDER_NOT_CONFIGURED', 'the default provider "openai" is not configured', {
      where: { field: 'provider' },
    });
    const err = new HubError(
      'HUB_COMPONENT_FAILED',
      `component processor.image failed to start: ${cause.message}`,
      {
        cause,
      },
    );
    const line = await logged((logger) => logger.error({ err }, 'start-up failed'));
    const loggedErr = line.err as { message: string; code: string; cause: { message: string; code: string } };
    expect(loggedErr.message).toBe(
      'component processor.image failed to start: the default provider "openai" is not configured',
    );
    expect(loggedErr.code).toBe('HUB_COMPONENT_FAILED');
    expect(loggedErr.cause).toMatchObject({ message: cause.message, code: 'PROVIDER_NOT_CONFIGURED' });
  });

  it("scrubs secrets at any depth of an error and its causes, leaving the caller's error as it was", async () => {
    // As a library error can carry its request and options, three and more levels down.
    const request = {
      url: 'https://erp.example/odata/SalesOrders',
      headers: { Authorization: 'Bearer tok-3a9f', accept: 'application/json' },
      options: { auth: { user: 'svc', password: 'p4ss-deep' }, sent: new Date(0) },
    };
    const cause = Object.assign(new Error('request failed'), { config: request, attempts: [request] });
    const err = new HubError('CONNECTOR_SOURCE_FAILED', 'the erp source failed: request failed', { cause });
    const line = await logged((logger) => logger.error({ err }, 'sync failed'));
    const text = JSON.stringify(line);
    expect(text).not.toContain('tok-3a9f');
    expect(text).not.toContain('p4ss-deep');
    const loggedCause = (line.err as { cause: { config: typeof request; attempts: (typeof request)[] } })
      .cause;
    expect(loggedCause.config.headers).toEqual({ Authorization: '[redacted]', accept: 'application/json' });
    expect(loggedCause.attempts[0]?.options).toEqual({
      auth: { user: 'svc', password: '[redacted]' },
      sent: '1970-01-01T00:00:00.000Z',
    });
    expect(loggedCause.config.url).toBe(request.url);
    // The error the caller still holds is not changed by logging it.
    expect(request.headers.Authorization).toBe('Bearer tok-3a9f');
    expect(request.options.auth.password).toBe('p4ss-deep');
  });

  it('redacts secrets in the fields it is given', async () => {
    const line = await logged((logger) => logger.info({ password: 'hunter2', user: 'ada' }, 'login'));
    expect(line).toMatchObject({ password: '[redacted]', user: 'ada', component: 'logger-test' });
  });
});
