import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import { silentLogger } from '../../core/logger.ts';
import type { Fault } from '../../demo/faults.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../platform/index.ts';
import type { ContractSubject } from '../connectors/contract.ts';
import { type Collected, collectTopic, createDeclaredTopics } from '../connectors/support/topics.ts';
import { type TestKafka, testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/**
 * Shared plumbing of the external-faults files (issue 10): one real demo system and one hub per
 * file, a fresh connector on fresh topics per case, the breaker states the connector reports,
 * and the requests the system saw.
 */

/** http.retry.retries of the subjects: one request makes at most this many + 1 attempts. */
export const RETRIES = 5;
/** http.endpoints.breaker.resetTimeoutMs of the subjects. */
export const RESET_TIMEOUT_MS = 700;

/** Each fault kind of the issue, as the demo systems' fault gate injects it. */
export const faultKinds: Record<string, Fault> = {
  'slow beyond the client timeout': { kind: 'slow', delayMs: 1_500 },
  '500': { kind: 'status', status: 500 },
  '429 with Retry-After': { kind: 'rate-limit', retryAfterSeconds: 1 },
  'connection reset': { kind: 'reset' },
  'half a response': { kind: 'half-response' },
};

export interface ConnectorStatus {
  endpoints: { breaker: string }[];
  source: { streams: Record<string, { failures: number; lastError: string | null }> } | null;
  sink: { breakerPaused: boolean; outlivedRetriesPauses: number } | null;
}

export async function waitUntil(
  what: string,
  check: () => boolean,
  status: () => unknown,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting until ${what}; connector status: ${JSON.stringify(status())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The requests a connector makes for data (not health probes, not OAuth tokens). */
export const dataRequest = (req: IncomingMessage): boolean =>
  !String(req.url).includes('health') && !String(req.url).includes('/oauth2/');

export interface Harness {
  readonly hub: HubContext;
  /** A connector of the subject on topics of its own, with `overrides` over the subject's config. */
  connector(overrides: Record<string, unknown>): Promise<{
    prefix: string;
    connector: RunningConnector;
    status(): ConnectorStatus;
    collect(topic: string): Promise<Collected>;
  }>;
}

/** Starts the subject's system and a hub before the file's cases, and stops all after them. */
export function useHarness(subject: ContractSubject): Harness {
  let tk: TestKafka;
  let hub: HubContext | undefined;
  const open: Collected[] = [];
  const running: RunningConnector[] = [];
  beforeAll(async () => {
    tk = testKafka();
    await subject.startSystem();
    hub = await createHubContext({ env: tk.env, schemaLogTopic: uniqueName('_tributary.schemas') });
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((c) => c.close()));
    await Promise.allSettled(open.map((c) => c.stop()));
    await hub?.close();
    await subject.stopSystem();
  });
  return {
    get hub() {
      if (!hub) throw new Error('the harness hub is used before beforeAll ran');
      return hub;
    },
    async connector(overrides) {
      const h = this.hub;
      const prefix = `${uniqueName(`${subject.system}-xf`)}.`;
      const offsetsTopic = uniqueName('_tributary.source-offsets');
      await createDeclaredTopics(
        tk.kafka,
        subject.declaration as ComponentDeclaration<unknown>,
        prefix,
        offsetsTopic,
      );
      const raw = {
        ...subject.config(),
        topicPrefix: prefix,
        offsetsTopic,
        groupId: uniqueName('sink'),
        pageSize: 7,
        pollIntervalMs: 200,
        sinkRetries: 2,
        ...overrides,
      };
      const config = (subject.declaration.config as { parse(v: unknown): never }).parse(raw);
      const connector = subject.declaration.create(config, {
        logger: silentLogger(),
        hub: h,
      }) as RunningConnector;
      running.push(connector);
      return {
        prefix,
        connector,
        status: () => connector.status() as unknown as ConnectorStatus,
        async collect(topic) {
          const c = await collectTopic(tk.kafka, h.serde, `${prefix}${topic}`, uniqueName('collect'));
          open.push(c);
          return c;
        },
      };
    },
  };
}
