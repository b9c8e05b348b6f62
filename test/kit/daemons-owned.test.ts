import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { portAcceptsConnections } from '../../kit/redis.ts';

/**
 * The Redis and OpenLDAP the kits start are children of the process that started them (a test
 * worker, a hub without REDIS_URL). When that process is killed, no exit hook runs; on Linux the
 * kernel then kills the daemons too, so none is left holding its port.
 */
describe.skipIf(process.platform !== 'linux')('daemons of the local kits', () => {
  it('die with the process that started them, even when it is killed with SIGKILL', async () => {
    const owner = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'owned-daemons.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      owner.once('exit', (code) => reject(new Error(`owner exited early with ${code}`)));
    });
    const ports = JSON.parse(line) as { redis: number; ldap: number };
    expect(await portAcceptsConnections(ports.redis)).toBe(true);
    expect(await portAcceptsConnections(ports.ldap)).toBe(true);

    owner.kill('SIGKILL');
    await vi.waitFor(
      async () => {
        expect(await portAcceptsConnections(ports.redis)).toBe(false);
        expect(await portAcceptsConnections(ports.ldap)).toBe(false);
      },
      { timeout: 15_000, interval: 250 },
    );
  }, 90_000);
});
