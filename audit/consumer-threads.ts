import { Worker } from 'node:worker_threads';
import { HubError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { HubSettings } from '../platform/index.ts';
import type { AuditConsumer, AuditConsumerConfig } from './consumer.ts';
import { auditConsumerConfigSchema } from './consumer-config.ts';
import type { AuditThreadData, AuditThreadMessage, SerializedError } from './consumer-thread.ts';

/**
 * The audit on `threads` worker threads. One thread builds entries at about half the rate its
 * crypto alone allows (bench/RESULTS.md), so a hub whose action topic has more partitions than
 * one thread keeps up with gets more cores: each thread is a member of the audit's consumer
 * group with a hub context of its own, and writes the chains of the partitions the group gives
 * it. What one consumer guarantees holds per chain (one writer per chain: the chain lock;
 * append, then commit), and a rebalance moves a chain between threads as between processes.
 * Same interface as one consumer: start() resolves when every thread has joined, status() sums
 * them, a failure of any thread stops the audit (failed()), close() closes every thread.
 */

type Status = ReturnType<AuditConsumer['status']>;

interface Thread {
  worker: Worker;
  status?: Status;
  started: Promise<void>;
  closed: Promise<void>;
}

const revive = (e: SerializedError): HubError =>
  new HubError(e.code, e.message, {
    retriable: e.retriable,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.where ? { where: e.where } : {}),
  });

export interface ThreadedAuditDeps {
  /** The hub's settings: each thread builds its own context from them. */
  settings: HubSettings;
  logger?: Logger;
}

/** The audit consumer spread over `config.threads` worker threads (see above). */
export function createThreadedAuditConsumer(
  input: AuditConsumerConfig,
  deps: ThreadedAuditDeps,
): AuditConsumer {
  const config = auditConsumerConfigSchema.parse(input);
  const parent = deps.logger ?? silentLogger();
  const logger = parent.bindings().component === undefined ? parent.child({ component: 'audit' }) : parent;
  const threads: Thread[] = [];
  let fatal: HubError | undefined;
  let reportFailure: (err: HubError) => void = () => {};
  const failure = new Promise<HubError>((resolve) => {
    reportFailure = resolve;
  });
  let started: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  const stop = (err: HubError) => {
    if (fatal) return;
    fatal = err;
    logger.error({ err, code: err.code }, 'an audit thread stopped: the audit stops');
    reportFailure(err);
    void close();
  };

  const spawn = (index: number): Thread => {
    const data: AuditThreadData = {
      index,
      config: { ...input, threads: 1 },
      settings: deps.settings,
      logLevel: logger.level,
      statusEveryMs: 250,
    };
    // The thread's process.env is the hub's environment (which a caller may have given instead).
    const env = Object.fromEntries(
      Object.entries(deps.settings.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const worker = new Worker(new URL('./consumer-thread.ts', import.meta.url), { workerData: data, env });
    const thread = { worker } as Thread;
    let exited = false;
    // A thread that said why it failed or stopped exits after that: its exit is no news.
    let reported = false;
    thread.started = new Promise<void>((resolve, reject) => {
      thread.closed = new Promise<void>((closedResolve) => {
        worker.on('message', (m: AuditThreadMessage) => {
          if (m.type === 'status') thread.status = m.status;
          else if (m.type === 'started') resolve();
          else if (m.type === 'failed') {
            reported = true;
            reject(revive(m.error));
          } else if (m.type === 'stopped') {
            reported = true;
            stop(revive(m.error));
          } else if (m.type === 'closed') closedResolve();
        });
        worker.on('error', (err) => {
          const e = new HubError('AUDIT_THREAD_FAILED', `audit thread ${index} failed: ${err.message}`, {
            cause: err,
          });
          reject(e);
          stop(e);
        });
        worker.on('exit', (code) => {
          exited = true;
          closedResolve();
          const e = new HubError('AUDIT_THREAD_EXITED', `audit thread ${index} exited (code ${code})`);
          reject(e);
          if (!closed && !reported) stop(e);
        });
      });
    });
    thread.started.catch(() => {});
    thread.closed.then(() => {
      if (!exited) void worker.terminate();
    });
    return thread;
  };

  const close = (): Promise<void> => {
    closed ??= (async () => {
      await started?.catch(() => {});
      await Promise.all(
        threads.map(async (t) => {
          t.worker.postMessage({ type: 'close' });
          const late = setTimeout(() => void t.worker.terminate(), config.sessionTimeoutMs + 30_000);
          await t.closed;
          clearTimeout(late);
        }),
      );
    })();
    return closed;
  };

  return {
    start() {
      if (closed) return Promise.reject(new HubError('AUDIT_CLOSED', 'the audit consumer is closed'));
      started ??= (async () => {
        for (let i = 0; i < config.threads; i += 1) threads.push(spawn(i));
        try {
          await Promise.all(threads.map((t) => t.started));
        } catch (err) {
          // The other threads are closed by close(); start() fails with the first error.
          void close();
          throw err;
        }
        logger.info({ threads: config.threads }, 'audit threads joined the group');
      })();
      return started;
    },
    close,
    status() {
      const statuses = threads.map((t) => t.status);
      const chains: Status['chains'] = {};
      for (const s of statuses) Object.assign(chains, s?.chains ?? {});
      return {
        running: !fatal && !closed && statuses.length > 0 && statuses.every((s) => s?.running === true),
        recorded: statuses.reduce((n, s) => n + (s?.recorded ?? 0), 0),
        dropped: statuses.reduce((n, s) => n + (s?.dropped ?? 0), 0),
        chains,
        error: fatal ? fatal.describe() : (statuses.find((s) => s?.error)?.error ?? null),
        threads: statuses.map((s) => ({ chains: Object.keys(s?.chains ?? {}), recorded: s?.recorded ?? 0 })),
      };
    },
    failed() {
      return failure;
    },
  };
}
