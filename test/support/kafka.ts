import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { findOnPath } from '../../kit/java.ts';
import { type KafkaClusterHandle, startKafkaCluster } from '../../kit/kafka/index.ts';
import { waitForTopicLeaders } from '../../platform/ensure-topic.ts';
import {
  createKafka,
  type KafkaClient,
  type KafkaSettings,
  kafkaConfigSchema,
} from '../../platform/kafka.ts';

/**
 * Where every test's Kafka comes from, decided once per run in the global setup:
 * 1. `KAFKA_BROKERS` when set (an existing cluster; nothing is started or stopped);
 * 2. else a `@testcontainers/kafka` container when a container runtime answers;
 * 3. else the local kit (Apache jars run by Java) on free ports in a temporary folder.
 * Tests read it with `testKafka()` and name their topics and groups with `uniqueName()`.
 */
export type KafkaSource = 'env' | 'container' | 'kit';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSource: KafkaSource;
  }
}

/** Image for the container path: Confluent Platform 8.1 carries Apache Kafka 4.1, like the kit. */
export const kafkaTestImage = process.env.TRIBUTARY_KAFKA_IMAGE ?? 'confluentinc/cp-kafka:8.1.0';

export interface SharedKafka {
  brokers: string[];
  source: KafkaSource;
  stop(): Promise<void>;
}

function ping(
  options: { socketPath?: string; host?: string; port?: number },
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ ...options, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * True when a Docker-compatible engine answers /_ping within `timeoutMs`. A docker CLI with
 * no engine behind it (or no socket at all) gives false at once, so tests fall through fast.
 * TRIBUTARY_NO_CONTAINERS=1 turns containers off.
 */
export async function containerRuntimeReachable(timeoutMs = 1500): Promise<boolean> {
  if (process.env.TRIBUTARY_NO_CONTAINERS === '1') return false;
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost?.startsWith('tcp://')) {
    if (process.env.DOCKER_TLS_VERIFY) return true; // TLS engines: let testcontainers try
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return ping({ host: url.hostname, port: Number(url.port || 2375) }, timeoutMs);
  }
  const uid = process.getuid?.() ?? 0;
  const sockets = [
    ...(dockerHost?.startsWith('unix://') ? [dockerHost.slice('unix://'.length)] : []),
    '/var/run/docker.sock',
    join(homedir(), '.docker', 'run', 'docker.sock'),
    `/run/user/${uid}/docker.sock`,
    `/run/user/${uid}/podman/podman.sock`,
    '/run/podman/podman.sock',
  ].filter((socket) => existsSync(socket));
  for (const socketPath of sockets) if (await ping({ socketPath }, timeoutMs)) return true;
  return false;
}

async function startContainer(): Promise<SharedKafka> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(kafkaTestImage).start();
  return {
    brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
    source: 'container',
    stop: async () => void (await container.stop()),
  };
}

async function startKit(log: (message: string) => void): Promise<SharedKafka> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-test-kafka-'));
  try {
    const cluster = await startKafkaCluster({
      nodes: 1,
      dataDir,
      onProgress: log,
      ownerPid: process.pid,
      purgeOnOwnerExit: true,
    });
    return {
      brokers: cluster.brokers,
      source: 'kit',
      stop: async () => {
        await cluster.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts (or finds) the run's Kafka; for the global setup only. */
export async function startSharedKafka(
  log: (message: string) => void = (m) => process.stderr.write(`tributary tests: ${m}\n`),
): Promise<SharedKafka> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    return { brokers: fromEnv.split(',').map((b) => b.trim()), source: 'env', stop: async () => {} };
  }
  if (await containerRuntimeReachable()) {
    try {
      log(`starting Kafka in a container (${kafkaTestImage}) ...`);
      return await startContainer();
    } catch (err) {
      log(`no Kafka container (${(err as Error).message}); using the local kit`);
    }
  }
  return startKit(log);
}

function providedBrokers(): { brokers: string[]; source: KafkaSource } {
  let brokers: string | undefined;
  let source: KafkaSource = 'env';
  try {
    brokers = inject('kafkaBrokers');
    source = inject('kafkaSource') ?? 'env';
  } catch {
    // Not inside a vitest worker with our global setup: fall back to the environment.
  }
  brokers ||= process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error(
      'No Kafka for tests: run them with vitest (vitest.config.ts starts one in global setup) or set KAFKA_BROKERS',
    );
  }
  return { brokers: brokers.split(','), source };
}

export interface TestKafka {
  brokers: string[];
  source: KafkaSource;
  settings: KafkaSettings;
  /** A kafkajs client from platform/kafka.ts, quiet unless TRIBUTARY_TEST_LOGS is set. */
  kafka: KafkaClient;
  /** process.env plus KAFKA_BROKERS, for code under test that reads its settings from env. */
  env: NodeJS.ProcessEnv;
}

/** The run's Kafka for this test file: brokers, settings and a client. */
export function testKafka(overrides: Partial<KafkaSettings> = {}): TestKafka {
  const { brokers, source } = providedBrokers();
  const settings = kafkaConfigSchema.parse({ brokers, clientId: 'tributary-test', ...overrides });
  return {
    brokers,
    source,
    settings,
    kafka: createKafka(settings, process.env.TRIBUTARY_TEST_LOGS ? undefined : silentLogger()),
    env: { ...process.env, KAFKA_BROKERS: brokers.join(',') },
  };
}

type Admin = ReturnType<KafkaClient['admin']>;

/**
 * Creates topics and waits until every partition has a leader. kafkajs' own `waitForLeaders`
 * gives up on the "does not host this topic-partition" a busy broker answers for a moment after
 * a create; platform's wait treats that as "not yet".
 */
export async function createTopicsAndWait(
  admin: Admin,
  options: Omit<Parameters<Admin['createTopics']>[0], 'waitForLeaders'>,
): Promise<void> {
  await admin.createTopics({ ...options, waitForLeaders: false });
  await waitForTopicLeaders(
    admin,
    options.topics.map((t) => t.topic),
  );
}

/**
 * Why a dedicated local cluster cannot run here, or undefined when it can. Use with
 * `describe.skipIf(dedicatedClusterUnavailable())`: reliability tests kill brokers, which
 * only the local kit allows (an external cluster from KAFKA_BROKERS is never touched).
 */
export function dedicatedClusterUnavailable(): string | undefined {
  if (providedSource() === 'env') {
    return 'KAFKA_BROKERS points at an external cluster; broker-killing tests run only with the local kit';
  }
  if (!process.env.JAVA_HOME && !findOnPath('java', process.env.PATH)) {
    return 'no Java on PATH: the local Kafka kit needs Java >= 17';
  }
  return undefined;
}

function providedSource(): KafkaSource {
  const fallback: KafkaSource = process.env.KAFKA_BROKERS ? 'env' : 'kit';
  try {
    return inject('kafkaSource') ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * Dedicated clusters notice a dead broker in ~3 s instead of Kafka's 9 s default, so failover
 * tests stay short; leadership and ISR still move through the controller exactly as in production.
 */
const fastFailover = { 'broker.heartbeat.interval.ms': 500, 'broker.session.timeout.ms': 3000 };

export interface DedicatedCluster extends KafkaClusterHandle {
  kafka: KafkaClient;
}

/**
 * A private local cluster for one test file (1 or 3 nodes, free ports, temp folder), for tests
 * that kill or restart brokers. `await using cluster = await startDedicatedCluster(...)`, or
 * call `stop()` in afterAll; stopping also deletes its folder.
 */
export async function startDedicatedCluster(
  options: { nodes?: 1 | 3; extraProperties?: Record<string, string | number | boolean> } = {},
): Promise<DedicatedCluster> {
  const reason = dedicatedClusterUnavailable();
  if (reason) throw new Error(`startDedicatedCluster: ${reason}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-test-cluster-'));
  const cluster = await startKafkaCluster({
    nodes: options.nodes ?? 3,
    dataDir,
    ownerPid: process.pid,
    purgeOnOwnerExit: true,
    extraProperties: { ...fastFailover, ...options.extraProperties },
  });
  const stop = async () => {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const kafka = createKafka(
    kafkaConfigSchema.parse({ brokers: cluster.brokers, clientId: 'tributary-test' }),
    process.env.TRIBUTARY_TEST_LOGS ? undefined : silentLogger(),
  );
  return {
    brokers: cluster.brokers,
    clusterId: cluster.clusterId,
    version: cluster.version,
    dataDir: cluster.dataDir,
    get nodes() {
      return cluster.nodes;
    },
    status: cluster.status,
    kill: cluster.kill,
    restart: cluster.restart,
    activeControllerId: cluster.activeControllerId,
    kafka,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
