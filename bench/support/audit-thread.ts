import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { createSegmentStore, openSubjectKeyFile, parseAuditKeys } from '../../audit/index.ts';
import { appendChain, cpuBound, settleInput } from './audit-chains.ts';
import { encodedBatches, InputClock } from './audit-input.ts';
import { memorySerde } from './memory-serde.ts';

/**
 * One worker thread of the audit benchmark, as the audit runs with `threads` > 1
 * (audit/consumer-threads.ts): it appends the chains of its partitions with the same writer,
 * store and input as the main thread's lines (events encoded here before the clock, each batch
 * decoded just before its append, the decoding left out), or runs the CPU bound's loop. It
 * prepares, says `ready`, starts on `go` (all threads at once) and answers with its figures.
 */

export interface AuditThreadJob {
  mode: 'append' | 'bound';
  /** The benchmark's temp folder: the store and subject key file every thread shares. */
  dir: string;
  keysJson: string;
  partitions: number[];
  perChain: number;
  batch: number;
  /** The bytes and time of the bound's loop (mode `bound`). */
  bound?: { plaintext: Uint8Array; aad: Uint8Array; entryBytes: Uint8Array; ms: number };
}

export interface AuditThreadResult {
  entries: number;
  /** Wall time of the appends, the decoding left out (append), or the bound's rate (bound). */
  wallMs: number;
  /** CPU time of the decoding on this thread, µs (left out of the process's CPU time). */
  decodeCpuUs: number;
  boundRate: number;
}

const job = workerData as AuditThreadJob;
const port = parentPort!;

async function prepareAppends(): Promise<() => Promise<AuditThreadResult>> {
  const keys = parseAuditKeys(job.keysJson, 'bench');
  const subjectKeys = await openSubjectKeyFile(join(job.dir, 'subject-keys.json'), keys);
  const store = createSegmentStore({ dir: join(job.dir, 'store'), fsync: true });
  const serde = await memorySerde();
  // Warm-up (not measured), on a chain of its own: the JIT compiles the audit code here too.
  const warm = new InputClock(serde);
  await appendChain(
    store,
    keys,
    subjectKeys,
    1000 + job.partitions[0]!,
    await encodedBatches(serde, 2_000, 500),
    warm,
  );
  const inputs: Buffer[][][] = [];
  for (const _ of job.partitions) inputs.push(await encodedBatches(serde, job.perChain, job.batch));
  settleInput();
  return async () => {
    const clock = new InputClock(serde);
    const start = performance.now();
    await Promise.all(
      job.partitions.map((p, i) => appendChain(store, keys, subjectKeys, p, inputs[i]!, clock)),
    );
    return {
      entries: job.partitions.length * job.perChain,
      wallMs: performance.now() - start - clock.wallMs,
      decodeCpuUs: clock.cpuUs,
      boundRate: 0,
    };
  };
}

const run =
  job.mode === 'append'
    ? await prepareAppends()
    : async (): Promise<AuditThreadResult> => {
        const b = job.bound!;
        const rate = cpuBound(Buffer.from(b.plaintext), Buffer.from(b.aad), Buffer.from(b.entryBytes), b.ms);
        return { entries: 0, wallMs: b.ms, decodeCpuUs: 0, boundRate: rate.wall };
      };
port.once('message', async () => {
  port.postMessage(await run());
  port.close();
});
port.postMessage('ready');
