import { createCipheriv, createHash, createSecretKey, hash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import {
  type AuditEntry,
  type AuditKeyRing,
  type AuditStore,
  chainIdForPartition,
  openChainWriter,
  type SubjectKeyStore,
} from '../../audit/index.ts';
import type { Serde } from '../../schemas/index.ts';
import { type BatchInput, InputClock } from './audit-input.ts';
import type { AuditThreadJob, AuditThreadResult } from './audit-thread.ts';

/** The audit benchmark's parts, shared by its main thread and its worker threads (audit-thread.ts). */
export async function appendChain(
  store: AuditStore,
  keys: AuditKeyRing,
  subjectKeys: SubjectKeyStore,
  partition: number,
  batches: Buffer[][],
  input: BatchInput,
  inFlight: 1 | 2 = 1,
): Promise<AuditEntry | undefined> {
  const writer = await openChainWriter(store, chainIdForPartition(partition), {
    keys,
    subjectKeys,
    checkpointEvery: 1000,
    checkpointIntervalMs: 60_000,
  });
  let last: AuditEntry | undefined;
  // One batch at a time, as the audit consumer appends (it commits a Kafka batch's offsets once
  // its append resolved). With two in flight, the writer prepares the next batch while the
  // previous one's durable write runs (each resolves after its own).
  let previous: Promise<AuditEntry[]> | undefined;
  try {
    let offset = 0;
    for (const values of batches) {
      // Decoded as the consumer decodes a fetched batch: just before it is appended.
      const records = await input.decode(values, partition, offset);
      offset += values.length;
      if (inFlight === 1) {
        last = (await writer.append(records)).at(-1) ?? last;
        continue;
      }
      const next = writer.append(records);
      next.catch(() => {}); // awaited below; a failure surfaces there
      if (previous) last = (await previous).at(-1) ?? last;
      previous = next;
    }
    if (previous) last = (await previous).at(-1) ?? last;
  } finally {
    await writer.close();
  }
  return last;
}

/**
 * A full garbage collection, run after a phase's input is encoded and before its clock starts:
 * the encoding's garbage is collected then, not by the appends' collections.
 */
export function settleInput(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A rate by the wall clock and by this process's CPU time (insensitive to a shared machine). */
export interface Rates {
  wall: number;
  cpu: number;
}

/**
 * Runs `appends` (which decode their input through the clock given) and returns their rates:
 * the time the decoding took, on the wall clock and in CPU, is left out.
 */
export async function measured<T>(
  serde: Serde,
  count: number,
  appends: (input: InputClock) => Promise<T>,
): Promise<{ rates: Rates; result: T }> {
  const input = new InputClock(serde);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const result = await appends(input);
  const used = process.cpuUsage(cpu);
  return {
    result,
    rates: {
      wall: (count * 1000) / (performance.now() - start - input.wallMs),
      cpu: (count * 1e6) / Math.max(1, used.user + used.system - input.cpuUs),
    },
  };
}

export function rates(count: number, wallStart: number, cpuStart: NodeJS.CpuUsage): Rates {
  const used = process.cpuUsage(cpuStart);
  return {
    wall: (count * 1000) / (performance.now() - wallStart),
    cpu: (count * 1e6) / Math.max(1, used.user + used.system),
  };
}

/**
 * The bound: per entry, encrypt the body's bytes (AES-256-GCM, fresh random nonce, the AAD's
 * size) and SHA-256 the stored entry's bytes, in a loop on one thread. No JSON, no I/O. It uses
 * the cheapest form of each call the audit may use: the key as a KeyObject made once (a Buffer
 * key costs Node 24 two thrown and caught exceptions per createCipheriv), the nonces cut from one
 * randomBytes call per 200, and the one-shot hash().
 */
export function cpuBound(plaintext: Buffer, aad: Buffer, entryBytes: Buffer, ms: number): Rates {
  const key = createSecretKey(randomBytes(32));
  const round = () => {
    const nonces = randomBytes(12 * 200);
    for (let i = 0; i < 200; i += 1) {
      const cipher = createCipheriv('aes-256-gcm', key, nonces.subarray(i * 12, i * 12 + 12));
      cipher.setAAD(aad);
      cipher.update(plaintext);
      cipher.final();
      cipher.getAuthTag();
      hash('sha256', entryBytes, 'hex');
    }
  };
  for (let i = 0; i < 10; i += 1) round();
  return loopRate(round, ms);
}

/**
 * The bound as measured before the audit turned its keys into KeyObjects (a Buffer key and a
 * randomBytes call per entry, a Hash object per digest): kept to compare with earlier records.
 */
export function cpuBoundAsBefore(plaintext: Buffer, aad: Buffer, entryBytes: Buffer, ms: number): Rates {
  const key = randomBytes(32);
  const round = () => {
    for (let i = 0; i < 200; i += 1) {
      const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
      cipher.setAAD(aad);
      cipher.update(plaintext);
      cipher.final();
      cipher.getAuthTag();
      createHash('sha256').update(entryBytes).digest('hex');
    }
  };
  for (let i = 0; i < 10; i += 1) round();
  return loopRate(round, ms);
}

/** Runs `round` (200 entries) for `ms` and returns the rate. */
export function loopRate(round: () => void, ms: number): Rates {
  let count = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < ms) {
    round();
    count += 200;
  }
  return rates(count, start, cpu);
}

/**
 * Runs one job per worker thread (audit-thread.ts): waits until every thread is ready, starts
 * them together and returns their results, with this process's CPU time (all threads) over
 * the run.
 */
export async function onThreads(
  jobs: AuditThreadJob[],
): Promise<{ results: AuditThreadResult[]; cpuUs: number }> {
  const workers = jobs.map(
    (job) => new Worker(new URL('./audit-thread.ts', import.meta.url), { workerData: job }),
  );
  try {
    const failed = new Promise<never>((_, reject) => {
      for (const w of workers) w.once('error', reject);
    });
    const message = (w: Worker) => new Promise<unknown>((resolve) => w.once('message', resolve));
    await Promise.race([Promise.all(workers.map(message)), failed]);
    const cpu = process.cpuUsage();
    const done = workers.map((w) => message(w) as Promise<AuditThreadResult>);
    for (const w of workers) w.postMessage('go');
    const results = await Promise.race([Promise.all(done), failed]);
    const used = process.cpuUsage(cpu);
    return { results, cpuUs: used.user + used.system };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
