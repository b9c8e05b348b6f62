import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { parseJavaVersion, requireJava } from '../../kit/java.ts';
import { kafkaDown, kafkaUp, startKafkaCluster } from '../../kit/kafka/index.ts';
import { kafkaArtifacts } from '../../kit/kafka/jars.ts';
import { artifactsCached, fetchMavenArtifacts } from '../../kit/maven.ts';
import { freePorts } from '../../kit/ports.ts';

async function rejection(promise: Promise<unknown>): Promise<HubError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

describe('Kafka kit errors a person can act on', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tributary-kit-errors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the taken port and the process holding it', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await rejection(kafkaUp({ dataDir: join(dir, 'taken'), basePort: port }));
      expect(err.code).toBe('KIT_PORT_TAKEN');
      expect(err.message).toContain(`Port ${port}`);
      expect(err.message).toContain(`pid ${process.pid}`);
      expect(err.hint).toContain('--port');
    } finally {
      server.close();
    }
  });

  it('says Java is missing and how to install it when java is not on PATH', async () => {
    const env = { ...process.env, PATH: join(dir, 'no-bin'), JAVA_HOME: '' };
    const err = await rejection(kafkaUp({ dataDir: join(dir, 'nojava'), env }));
    expect(err.code).toBe('KIT_JAVA_MISSING');
    expect(err.describe()).toMatch(/Java was not found/);
    expect(err.hint).toContain('openjdk-17');
  });

  it("shows Maven's last lines and what to do when the jars cannot be fetched", async () => {
    // A Kafka version that was never published: Maven really fails to resolve it.
    const err = await rejection(
      fetchMavenArtifacts({
        artifacts: kafkaArtifacts('0.0.1-never-released'),
        outputDir: join(dir, 'jars', 'libs'),
      }),
    );
    expect(err.code).toBe('KIT_FETCH_FAILED');
    expect(err.message).toMatch(/Maven could not fetch the jars \(exit code \d+\):\n.*\S/);
    expect(err.message).toContain('0.0.1-never-released');
    expect(err.hint).toContain('settings.xml');
    expect(artifactsCached(join(dir, 'jars', 'libs'))).toBe(false);
  });

  it('accepts the Java on this machine and reads version strings of old and new Javas', async () => {
    expect((await requireJava()).major).toBeGreaterThanOrEqual(17);
    expect(parseJavaVersion('java version "1.8.0_392"')?.major).toBe(8);
    expect(parseJavaVersion('openjdk version "11.0.21" 2023-10-17')?.major).toBe(11);
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')?.major).toBe(21);
  });

  it('shows the last broker log lines when a broker exits during start', async () => {
    const dataDir = join(dir, 'exits');
    // A corrupt data folder: node 1's meta.properties claims to belong to node 7, so the broker
    // refuses it and exits right after starting.
    await mkdir(join(dataDir, 'node-1', 'data'), { recursive: true });
    await writeFile(
      join(dataDir, 'node-1', 'data', 'meta.properties'),
      'version=1\ncluster.id=QFly-qx8JFEn-3pLu4oHBg\nnode.id=7\ndirectory.id=ZfhgDvvSsTxwQKHe3LLwDg\n',
    );
    try {
      const err = await rejection(startKafkaCluster({ nodes: 1, dataDir, readyTimeoutMs: 90_000 }));
      expect(err.code).toBe('KIT_KAFKA_EXITED');
      expect(err.message).toContain('Last log lines');
      expect(err.message).toContain('Stored node id 7');
    } finally {
      await kafkaDown({ dataDir, graceMs: 5000 });
    }
  });
  /**
   * Takes node 1's client port once its server.properties is written (the kit's progress line
   * comes after that and before the JVM starts), as a busy machine's other process might.
   */
  function takePortBeforeBrokerListens(dataDir: string, held: Server[]) {
    return (message: string) => {
      if (!message.startsWith('starting Kafka') || held.length > 0) return;
      // Synchronous read: the kit spawns the JVM right after this callback returns.
      const text = readFileSync(join(dataDir, 'node-1', 'server.properties'), 'utf8');
      const port = Number(/^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/m.exec(text)?.[1]);
      const server = createServer();
      server.listen({ port, host: '127.0.0.1' });
      held.push(server);
    };
  }

  it('names a port taken after the check, from the first errors of the broker log', async () => {
    const dataDir = join(dir, 'bind-explicit');
    const held: Server[] = [];
    try {
      const [port, controllerPort] = await freePorts(2);
      const err = await rejection(
        startKafkaCluster({
          nodes: 1,
          dataDir,
          ports: [{ port: port!, controllerPort: controllerPort! }],
          onProgress: takePortBeforeBrokerListens(dataDir, held),
        }),
      );
      expect(held).toHaveLength(1);
      expect(err.code).toBe('KIT_KAFKA_EXITED');
      expect(err.message).toMatch(/First errors in its log:\n.*ERROR/);
      expect(err.message).toContain('Address already in use');
      expect(err.where.portTaken).toBe('yes');
      expect(err.hint).toContain('took one of its ports');
    } finally {
      for (const server of held) server.close();
      await kafkaDown({ dataDir, graceMs: 5000 });
    }
  });

  it('starts again on other ports when a port it chose is taken before the broker listens', async () => {
    const dataDir = join(dir, 'bind-chosen');
    const held: Server[] = [];
    const progress: string[] = [];
    const take = takePortBeforeBrokerListens(dataDir, held);
    try {
      const cluster = await startKafkaCluster({
        nodes: 1,
        dataDir,
        onProgress: (message) => {
          progress.push(message);
          take(message);
        },
      });
      expect(held).toHaveLength(1);
      const taken = (held[0]!.address() as { port: number }).port;
      expect(progress.filter((m) => m.startsWith('starting Kafka'))).toHaveLength(2);
      expect(progress.some((m) => m.includes('starting again on other ports'))).toBe(true);
      expect(cluster.brokers).toHaveLength(1);
      expect(cluster.brokers[0]).not.toBe(`127.0.0.1:${taken}`);
      expect(cluster.status().every((n) => n.alive)).toBe(true);
    } finally {
      for (const server of held) server.close();
      await kafkaDown({ dataDir, graceMs: 5000 });
    }
  }, 120_000);
});
