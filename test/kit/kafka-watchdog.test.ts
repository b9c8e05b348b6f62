import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isProcessAlive } from '../../kit/process.ts';

describe('a cluster tied to its owner process', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('is killed and deleted when the owner dies without stopping it', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'tributary-kit-owned-'));
    dirs.push(parent);
    const dataDir = join(parent, 'cluster');
    const owner = spawn(
      process.execPath,
      [
        '--disable-warning=TimeoutNegativeWarning',
        join(import.meta.dirname, 'fixtures', 'owned-cluster.ts'),
        dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      owner.once('exit', (code) => reject(new Error(`owner exited early with ${code}`)));
    });
    const { pids } = JSON.parse(line) as { pids: number[] };
    expect(pids.every((pid) => isProcessAlive(pid))).toBe(true);

    owner.kill('SIGKILL');
    await vi.waitFor(
      () => {
        expect(pids.some((pid) => isProcessAlive(pid))).toBe(false);
        expect(existsSync(dataDir)).toBe(false);
      },
      { timeout: 30_000, interval: 500 },
    );
  });
});
