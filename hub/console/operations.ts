import { loadAuditKeys } from '../../audit/keys.ts';
import { type ChainVerdict, verifyEachChain } from '../../audit/verify-dir.ts';
import { CONNECTOR_CONTROL_TOPIC, createConnectorControl } from '../../connectors/runtime/control.ts';
import { HubError } from '../../core/errors.ts';
import { createOffsetAdmin } from '../../platform/group-offsets.ts';
import { ACTIONS_TOPIC, createActionEmitter, type HubContext } from '../../platform/index.ts';
import {
  createRedriveMarkers,
  dlqTopicName,
  listDeadLetterTopics,
  parseWhere,
  REDRIVEN_TOPIC,
  readDeadLetters,
  redriveDeadLetters,
} from '../../topology/dlq/index.ts';
import type { HostedComponent } from '../supervisor.ts';

/**
 * What the console's buttons and tables do, over the same functions as the CLI: `tributary dlq
 * list|show|redrive` (topology/dlq), `tributary audit verify` (audit/verify.ts) and `tributary
 * connectors pause|resume` (the connector control topic every running connector follows).
 * Actions taken here are audited with the actor `console`.
 */

export const CONSOLE_ACTOR = 'console';

export interface ConsoleOperations {
  dlqTopics(): Promise<unknown>;
  dlqRecords(topic: string, limit: number): Promise<unknown>;
  /** Redrives the matching letters of a topic, or only the one at `record` when given. */
  redrive(topic: string, where: string[], record?: LetterPosition): Promise<unknown>;
  auditStatus(): Promise<AuditStatus>;
  connectors(): { name: string; state: string; paused: boolean; breakers: string[] }[];
  control(connector: string, command: 'pause' | 'resume'): Promise<void>;
}

export interface LetterPosition {
  partition: number;
  offset: string;
}

export type AuditStatus =
  | { running: false; reason: string }
  | { running: true; checkedAt: string; ok: boolean; chains: ChainVerdict[] };

export interface ConsoleOperationsDeps {
  hub: HubContext;
  components: () => readonly HostedComponent[];
  /** The audit component's store and key settings, when this hub runs it. */
  audit?: { dir: string; keyFile?: string; env: NodeJS.ProcessEnv };
  /** Topic names of this hub (the test prefix). */
  prefix: string;
  /**
   * The hub's own dead-letter topics (its topology's `*.dlq`): the panel lists these, not every
   * `*.dlq` of a cluster other hubs share. Every one on the cluster when omitted.
   */
  deadLetterTopics?: readonly string[];
}

const bigintAsText = (_key: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
/** JSON-safe copy (offsets and timestamps may be bigints). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, bigintAsText));

export function createConsoleOperations(deps: ConsoleOperationsDeps): ConsoleOperations {
  const { hub, prefix } = deps;
  const markers = () =>
    createRedriveMarkers({ kafka: hub.kafka, producer: hub.producer, topic: `${prefix}${REDRIVEN_TOPIC}` });
  const withAdmin = async <T>(fn: (admin: ReturnType<typeof createOffsetAdmin>) => Promise<T>) => {
    const admin = createOffsetAdmin(hub.kafka);
    await admin.start();
    try {
      return await fn(admin);
    } finally {
      await admin.close();
    }
  };
  const requireDlq = (topic: string) =>
    withAdmin(async (admin) => {
      if (!(await admin.topicExists(topic)))
        throw new HubError('DLQ_TOPIC_MISSING', `dead-letter topic ${topic} does not exist`, {
          where: { topic },
        });
    });
  // Connectors are the components with a source or a sink (connector.runtime only owns topics).
  const connectorsOf = () =>
    deps.components().filter((c) => {
      const status = c.status() as { source?: unknown; sink?: unknown } | undefined;
      return c.name.startsWith('connector.') && (status?.source !== undefined || status?.sink !== undefined);
    });

  return {
    dlqTopics: async () =>
      plain(
        await withAdmin(async (admin) =>
          listDeadLetterTopics(admin, deps.deadLetterTopics, await markers().counts()),
        ),
      ),
    async dlqRecords(topic, limit) {
      const dlq = dlqTopicName(topic);
      await requireDlq(dlq);
      const letters = await withAdmin((admin) =>
        readDeadLetters({ kafka: hub.kafka, admin, topic: dlq, serde: hub.serde, limit }),
      );
      return plain(letters.map(({ raw: _raw, ...rest }) => rest));
    },
    async redrive(topic, where, record) {
      const dlq = dlqTopicName(topic);
      await requireDlq(dlq);
      const result = await redriveDeadLetters({
        hub,
        markers: markers(),
        topic: dlq,
        where: { ...parseWhere(where), ...(record ? { records: [record] } : {}) },
        dryRun: false,
        actions: createActionEmitter({
          producer: hub.producer,
          source: 'hub.console',
          topic: `${prefix}${ACTIONS_TOPIC}`,
        }),
        actor: CONSOLE_ACTOR,
      });
      if (record && result.records.length === 0 && result.alreadyRedriven === 0)
        throw new HubError(
          'CONSOLE_UNKNOWN_LETTER',
          `no dead letter at partition ${record.partition} offset ${record.offset} of ${dlq}`,
          { where: { topic: dlq, partition: record.partition, offset: record.offset } },
        );
      return plain(result);
    },
    async auditStatus() {
      if (!deps.audit) return { running: false, reason: 'the audit component does not run in this hub' };
      const { dir, keyFile, env } = deps.audit;
      const keys = await loadAuditKeys({ ...(keyFile ? { keyFile } : {}), env });
      const chains = await verifyEachChain({ dir, keys });
      return {
        running: true,
        checkedAt: new Date().toISOString(),
        ok: chains.every((c) => c.ok),
        chains: plain(chains) as ChainVerdict[],
      };
    },
    connectors: () =>
      connectorsOf().map((c) => {
        const status = (c.status() ?? {}) as {
          source?: { state?: string } | null;
          sink?: { operatorPaused?: boolean } | null;
          endpoints?: { url: string; breaker: string }[];
        };
        return {
          name: c.name,
          state: c.state(),
          paused: status.source?.state === 'paused' || status.sink?.operatorPaused === true,
          breakers: (status.endpoints ?? []).map((e) => `${e.url} ${e.breaker}`),
        };
      }),
    async control(connector, command) {
      if (!connectorsOf().some((c) => c.name === connector))
        throw new HubError('CONSOLE_UNKNOWN_CONNECTOR', `no connector named ${connector} runs in this hub`, {
          where: { component: connector },
        });
      const control = createConnectorControl({
        kafka: hub.kafka,
        producer: hub.producer,
        topic: `${prefix}${CONNECTOR_CONTROL_TOPIC}`,
        actionsTopic: `${prefix}${ACTIONS_TOPIC}`,
      });
      await control.send(connector, command, CONSOLE_ACTOR);
    },
  };
}
