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

  it('redacts secrets in the fields it is given', async () => {
    const line = await logged((logger) => logger.info({ password: 'hunter2', user: 'ada' }, 'login'));
    expect(line).toMatchObject({ password: '[redacted]', user: 'ada', component: 'logger-test' });
  });
});
