import { spawn } from 'node:child_process';
import { ensureKafkaJars } from '../../kit/kafka/index.ts';

/** Runs a main class from the kit's Kafka jars; resolves with its exit code, output and wall time. */
export async function runKafkaTool(
  mainClass: string,
  args: string[],
): Promise<{ code: number | null; output: string; ms: number }> {
  const libs = await ensureKafkaJars();
  const started = performance.now();
  const child = spawn('java', ['-Xmx256m', '-cp', `${libs}/*`, mainClass, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { code, output, ms: performance.now() - started };
}
