import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuditConsumer } from '../audit/consumer.ts';
import { auditEntrySchema } from '../audit/entry.ts';
import { generateAuditKeyFile, parseAuditKeys } from '../audit/keys.ts';
import { createSegmentStore } from '../audit/segment-store.ts';
import { verifyChain } from '../audit/verify.ts';
import { crmConnector } from '../connectors/crm/declaration.ts';
import type { RunningConnector } from '../connectors/runtime/connector.ts';
import { UsageError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { crmConnectorHttp, startCrmServer } from '../demo/crm-server/server.ts';
import { startKafkaCluster } from '../kit/kafka/index.ts';
import {
  ACTIONS_TOPIC,
  createHubContext,
  createTopicFollower,
  deadLetterTopic,
  EventHeaders,
  headerText,
  type KafkaClient,
  kafkaConfigSchema,
  waitForTopicLeaders,
} from '../platform/index.ts';
import { type BenchResult, isEntryPoint, runAsMain } from './support/report.ts';

/**
 * Issue 8's must-show, runnable: `node bench/failover.ts` (`npm run failover`). On a private
 * three-node local cluster (replication 3, min ISR 2) the CRM connector's source loop reads
 * FAILOVER_EVENTS (default 100,000) changed accounts from the demo CRM and publishes them; an audit
 * consumer records that change topic (`recordEvents`) into its hash chains. Once a third of the
 * events are chained, one broker is killed (-9): the active controller, or another broker with
 * FAILOVER_STOP=broker. It stays down. At the end every change must be in the chains exactly once
 * (no loss, no duplicate) and the chains must verify; otherwise the script fails.
 */

const EVENTS = Number(process.env.FAILOVER_EVENTS ?? 100_000);
const STOP = process.env.FAILOVER_STOP === 'broker' ? 'broker' : 'controller';
const PARTITIONS = 6;
const PAGE = 2_000;
const fastFailover = { 'broker.heartbeat.interval.ms': 500, 'broker.session.timeout.ms': 3000 };

async function createTopics(kafka: KafkaClient, prefix: string, offsetsTopic: string): Promise<void> {
  const names = crmConnector.topics.flatMap((t) => [
    t.name,
    ...(t.deadLetter ? [deadLetterTopic(t.name)] : []),
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [...names, ACTIONS_TOPIC].map((n) => `${prefix}${n}`);
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        ...topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 3 })),
        {
          topic: offsetsTopic,
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    });
    await waitForTopicLeaders(admin, [...topics, offsetsTopic]);
  } finally {
    await admin.disconnect();
  }
}

/** Distinct event ids in a topic, and how many records it holds (re-sends included). */
async function eventIdsOf(kafka: KafkaClient, topic: string): Promise<{ ids: Set<string>; records: number }> {
  const ids = new Set<string>();
  let records = 0;
  const follower = createTopicFollower({
    kafka,
    topic,
    onRecord: (r) => {
      records++;
      ids.add(headerText(r.headers, EventHeaders.eventId) ?? `no id at ${r.partition}@${r.offset}`);
    },
  });
  await follower.start();
  await follower.catchUp(120_000);
  await follower.close();
  return { ids, records };
}

async function until(what: () => string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(200);
  }
}

export async function failover(): Promise<BenchResult> {
  if (process.env.KAFKA_BROKERS) {
    throw new UsageError(
      'bench/failover.ts kills a broker of its own three-node cluster: unset KAFKA_BROKERS',
    );
  }
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-failover-'));
  const cluster = await startKafkaCluster({
    nodes: 3,
    dataDir: join(dataDir, 'kafka'),
    ownerPid: process.pid,
    purgeOnOwnerExit: true,
    extraProperties: fastFailover,
  });
  const crm = await startCrmServer();
  const logger = silentLogger();
  const hub = await createHubContext({
    env: { KAFKA_BROKERS: cluster.brokers.join(',') },
    kafkaSettings: kafkaConfigSchema.parse({ brokers: cluster.brokers, clientId: 'failover' }),
    schemaLogTopic: '_failover.schemas',
    logger,
  });
  const prefix = 'failover.';
  const offsetsTopic = '_failover.source-offsets';
  const eventTopic = `${prefix}crm.account.changed`;
  const auditDir = join(dataDir, 'audit');
  const keys = parseAuditKeys(JSON.stringify(generateAuditKeyFile({ development: true })), 'failover');
  try {
    for (let i = 0; i < EVENTS; i++) crm.put('Account', { Name: `Failover ${i}`, ExtId__c: `F-${i}` });
    await createTopics(hub.kafka, prefix, offsetsTopic);
    const config = (crmConnector.config as unknown as { parse(v: unknown): never }).parse({
      http: crmConnectorHttp(crm),
      entities: ['account'],
      topicPrefix: prefix,
      offsetsTopic,
      sink: false,
      pageSize: PAGE,
      pollIntervalMs: 500,
    });
    const audit = createAuditConsumer(
      {
        dir: auditDir,
        topic: eventTopic,
        groupId: 'failover-audit',
        recordEvents: true,
        checkpointEvery: 10_000,
        sessionTimeoutMs: 6_000,
      },
      { kafka: hub.kafka, serde: hub.serde, keys, logger },
    );
    const connector = crmConnector.create(config, { logger, hub }) as RunningConnector;
    await audit.start();
    const flowStarted = performance.now();
    await connector.start();

    // Stop one broker once a third of the events are chained; it stays down.
    await until(
      () => `a third chained (${audit.status().recorded})`,
      () => audit.status().recorded >= EVENTS / 3,
      600_000,
    );
    const chainedAtKill = audit.status().recorded;
    const killedAt = performance.now();
    const controller = await cluster.activeControllerId();
    const victim = STOP === 'controller' && controller !== undefined ? controller : controller === 1 ? 2 : 1;
    await cluster.kill(victim, 'SIGKILL');
    console.error(
      `failover: killed broker ${victim} (${STOP}) with ${chainedAtKill} of ${EVENTS} events chained`,
    );
    await until(
      () => `every event chained (${JSON.stringify(audit.status().recorded)} of ${EVENTS})`,
      () => audit.status().recorded >= EVENTS,
      900_000,
    );
    const flowSeconds = (performance.now() - flowStarted) / 1000;
    const afterKillSeconds = (performance.now() - killedAt) / 1000;
    const beforeKillSeconds = (killedAt - flowStarted) / 1000;
    // Let any late re-send arrive before counting: it must be dropped, not chained twice.
    await sleep(5_000);
    await connector.close();
    const auditStatus = audit.status();
    await audit.close();

    const onTopic = await eventIdsOf(hub.kafka, eventTopic);
    const store = createSegmentStore({ dir: auditDir });
    const chained = new Map<string, number>();
    let entries = 0;
    for (const chain of await store.chainIds()) {
      for await (const r of store.readEntries(chain)) {
        const entry = auditEntrySchema.parse(r.value);
        entries++;
        chained.set(entry.eventId, (chained.get(entry.eventId) ?? 0) + 1);
      }
    }
    const missing = [...onTopic.ids].filter((id) => !chained.has(id));
    const twice = [...chained].filter(([, n]) => n > 1);
    const strangers = [...chained.keys()].filter((id) => !onTopic.ids.has(id));
    const verdict = await verifyChain(store, keys);
    const checks = {
      'one change event per account on the topic': onTopic.ids.size === EVENTS,
      'no event lost from the chains': missing.length === 0,
      'no event chained twice': twice.length === 0,
      'nothing else chained': strangers.length === 0,
      'the chains verify': verdict.ok,
    };
    const failed = Object.entries(checks).filter(([, ok]) => !ok);
    const result: BenchResult = {
      name: 'failover',
      title: 'Failover: a broker killed while 100,000 connector events flow into the audit chains',
      setup: {
        brokers: '3 (local kit, KRaft, combined broker+controller), replication 3, min ISR 2',
        'stopped broker': `${victim} (${STOP === 'controller' ? 'the active controller' : 'not the controller'}), kill -9, left down`,
        source: `demo CRM (Salesforce-style REST), ${EVENTS} changed accounts, pages of ${PAGE}`,
        connector: 'CRM connector source loop (idempotent producer, acks=all)',
        audit: 'audit consumer on the change topic (recordEvents), fsync per batch',
        partitions: PARTITIONS,
      },
      figures: [
        { label: 'events through connector and audit', value: EVENTS, unit: 'events' },
        { label: 'records on the change topic (re-sends included)', value: onTopic.records, unit: 'records' },
        { label: 'audit entries', value: entries, unit: 'entries' },
        { label: 're-sent events dropped by the audit', value: auditStatus.dropped, unit: 'events' },
        { label: 'events lost', value: missing.length, unit: 'events' },
        { label: 'events chained twice', value: twice.length, unit: 'events' },
        { label: 'flow time', value: flowSeconds, unit: 's' },
        { label: 'rate before the kill', value: chainedAtKill / beforeKillSeconds, unit: 'events/s' },
        {
          label: 'rate after the kill',
          value: (EVENTS - chainedAtKill) / afterKillSeconds,
          unit: 'events/s',
        },
      ],
      comparisons: [
        {
          label: 'rate after the kill / before it (same run)',
          ratio: (EVENTS - chainedAtKill) / afterKillSeconds / (chainedAtKill / beforeKillSeconds),
          headline: true,
        },
      ],
      notes: [
        ...Object.entries(checks).map(([what, ok]) => `${ok ? 'ok' : 'FAILED'}: ${what}`),
        `verify: ${JSON.stringify(verdict).slice(0, 300)}`,
      ],
      seconds: (performance.now() - started) / 1000,
    };
    if (failed.length > 0) {
      const { printResult } = await import('./support/report.ts');
      printResult(result);
      throw new Error(`failover must-show failed: ${failed.map(([what]) => what).join('; ')}`);
    }
    return result;
  } finally {
    await hub.close().catch(() => undefined);
    await crm.close().catch(() => undefined);
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (isEntryPoint(import.meta)) {
  await runAsMain(failover);
  // The kafkajs clients of a cluster that lost a broker can keep reconnect timers alive: end here.
  process.exit(process.exitCode ?? 0);
}
