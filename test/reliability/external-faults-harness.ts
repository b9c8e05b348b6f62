import type { IncomingMessage } from 'node:http';
import type { RunningConnector } from '../../connectors/runtime/connector.ts';
import type { Fault } from '../../demo/faults.ts';
import type { HubContext } from '../../platform/index.ts';
import type { ContractSubject } from '../connectors/contract.ts';
import { useConnectorHarness } from '../connectors/support/harness.ts';
import type { Collected } from '../connectors/support/topics.ts';

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

export { waitUntil } from '../connectors/support/harness.ts';

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
  const harness = useConnectorHarness(subject, `${subject.system}-xf`);
  return {
    get hub() {
      return harness.hub;
    },
    async connector(overrides) {
      const { prefix, make, collect } = await harness.setup({ sinkRetries: 2, ...overrides });
      const connector = make();
      return {
        prefix,
        connector,
        status: () => connector.status() as unknown as ConnectorStatus,
        collect,
      };
    },
  };
}
