import { afterAll, beforeAll } from 'vitest';
import type { RunningConnector } from '../../../connectors/runtime/connector.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { ComponentDeclaration } from '../../../platform/declaration.ts';
import { createHubContext, type HubContext } from '../../../platform/index.ts';
import { type TestKafka, testKafka } from '../../support/kafka.ts';
import { uniqueName } from '../../support/names.ts';
import type { ContractSubject } from '../contract.ts';
import { type Collected, collectTopic, createDeclaredTopics } from './topics.ts';

/**
 * One real system and one hub per test file, and per case a connector of the subject on topics
 * of its own: what the connector contract, the endpoint-fault matrix and the external-fault
 * files share. Everything made is closed after the file.
 */
export interface ConnectorHarness {
  readonly hub: HubContext;
  /**
   * Creates the declared topics under a fresh prefix (`<label>-…`) and parses the subject's
   * config with the suite's defaults (page size 7, poll every 200 ms) and `overrides`.
   */
  setup(overrides?: Record<string, unknown>): Promise<ConnectorSetup>;
}

export interface ConnectorSetup {
  prefix: string;
  /** A connector of that config (a second call makes a fresh one, as a restart would). */
  make(): RunningConnector;
  /** Reads a topic of this setup (name without the prefix) from its beginning. */
  collect(topic: string): Promise<Collected>;
}

export function useConnectorHarness(subject: ContractSubject, label = subject.system): ConnectorHarness {
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
  const hubOf = () => {
    if (!hub) throw new Error('the harness hub is used before beforeAll ran');
    return hub;
  };
  return {
    get hub() {
      return hubOf();
    },
    async setup(overrides = {}) {
      const h = hubOf();
      const prefix = `${uniqueName(label)}.`;
      const offsetsTopic = uniqueName('_tributary.source-offsets');
      const declaration = subject.declaration as ComponentDeclaration<unknown>;
      await createDeclaredTopics(tk.kafka, declaration, prefix, offsetsTopic);
      const raw = {
        ...subject.config(),
        topicPrefix: prefix,
        offsetsTopic,
        groupId: uniqueName('sink'),
        pageSize: 7,
        pollIntervalMs: 200,
        ...overrides,
      };
      const config = (subject.declaration.config as { parse(v: unknown): never }).parse(raw);
      return {
        prefix,
        make() {
          const connector = subject.declaration.create(config, {
            logger: silentLogger(),
            hub: h,
          }) as RunningConnector;
          running.push(connector);
          return connector;
        },
        async collect(topic) {
          const c = await collectTopic(tk.kafka, h.serde, `${prefix}${topic}`, uniqueName('collect'));
          open.push(c);
          return c;
        },
      };
    },
  };
}

/** Polls `check` every `everyMs` until it holds; the error names `what` and the connector status. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  status: () => unknown,
  timeoutMs = 30_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting until ${what}; connector status: ${JSON.stringify(status())}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
