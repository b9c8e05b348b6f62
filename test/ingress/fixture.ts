import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { silentLogger } from '../../core/logger.ts';
import { createIngress, type Ingress, type ingressConfigSchema } from '../../ingress/index.ts';
import { createHubAdmin } from '../../platform/admin.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { createHubContext, type HubContext, waitForTopicLeaders } from '../../platform/index.ts';
import { type RangeRecord, readRange } from '../../platform/replay-reader.ts';
import type { HubEvent } from '../../schemas/index.ts';
import { upsertLocalUser } from '../../security/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type TestRedis, useTestRedis } from '../support/redis.ts';

/** A component that accepts two commands, as a connector and a processor would declare them. */
export const pushTargetDeclaration: ComponentDeclaration<unknown> = {
  name: 'test.push-target',
  kind: 'connector',
  description: 'Accepts account upserts and image analyses (ingress tests).',
  config: undefined as unknown as ComponentDeclaration<unknown>['config'],
  topics: [
    {
      name: 'crm.account.upsert.cmd',
      description: 'Account upserts.',
      valueSchema: 'tributary.crm.AccountUpsert',
      partitions: 3,
    },
    {
      name: 'crm.account.upsert.res',
      description: 'Results.',
      valueSchema: 'tributary.crm.AccountUpsertResult',
    },
    {
      name: 'media.image.analyze.req',
      description: 'Image jobs.',
      valueSchema: 'tributary.media.ImageAnalyzeRequest',
    },
    {
      name: 'media.image.analyze.res',
      description: 'Image results.',
      valueSchema: 'tributary.media.ImageAnalyzeResult',
    },
  ],
  produces: [],
  consumes: [],
  commands: [
    {
      name: 'crm.account.upsert',
      title: 'Create or update a CRM account',
      description: 'Creates or updates an account by external id.',
      topic: 'crm.account.upsert.cmd',
      resultTopic: 'crm.account.upsert.res',
      mutating: true,
    },
    {
      name: 'image.analyze',
      description: 'Analyses an image.',
      topic: 'media.image.analyze.req',
      resultTopic: 'media.image.analyze.res',
      mutating: false,
    },
  ],
  create() {
    throw new Error('not run in these tests');
  },
};

/** Roles: pushers may push account upserts and read topics; admins everything; readers nothing to push. */
const policyYaml = `
groups:
  pushers: [pusher]
  admins: [admin]
roles:
  pusher: ['ingress:crm.account.upsert', 'read:*']
  admin: ['*']
`;

export interface IngressFixture {
  url: string;
  prefix: string;
  hub: HubContext;
  ingress: Ingress;
  /** The ingress's signing key (PEM), to mint tokens it should or should not accept. */
  signingKey: string;
  /** Logs in and returns a bearer token. */
  token(user: 'pia' | 'ada'): Promise<string>;
  /** Every record of a topic, decoded (read straight from Kafka, not through the ingress). */
  records(topic: string): Promise<Array<RangeRecord & { event: HubEvent<Record<string, unknown>> }>>;
  close(): Promise<void>;
}

/** Real Kafka and Redis, a local users file and a policy file in a temp folder, the ingress on a free port. */
export async function startIngressFixture(
  overrides: Partial<z.input<typeof ingressConfigSchema>> = {},
): Promise<IngressFixture> {
  const prefix = `${uniqueName('ingress')}.`;
  const { settings, kafka } = testKafka({ clientId: uniqueName('client') });
  const env = { ...process.env };
  delete env.SCHEMA_REGISTRY_URL;
  const hub = await createHubContext({ env, kafkaSettings: settings, schemaLogTopic: uniqueName('schemas') });
  const admin = createHubAdmin(kafka);
  await admin.start();
  const topics = [
    ...pushTargetDeclaration.topics.map((t) => ({ name: prefix + t.name, partitions: t.partitions ?? 1 })),
    { name: `${prefix}hub.actions`, partitions: 1 },
  ];
  await admin.createTopics(topics.map((t) => ({ ...t, replication: 1, configs: {} })));
  await admin.close();
  const raw = kafka.admin();
  await raw.connect();
  await waitForTopicLeaders(
    raw,
    topics.map((t) => t.name),
  );
  await raw.disconnect();

  const dir = await mkdtemp(join(tmpdir(), 'tributary-ingress-'));
  const usersFile = join(dir, 'users.json');
  await upsertLocalUser(usersFile, 'pia', 'pia-secret-1', ['pushers']);
  await upsertLocalUser(usersFile, 'ada', 'ada-secret-1', ['admins']);
  await writeFile(join(dir, 'policy.yaml'), policyYaml);
  const redisService: TestRedis = await useTestRedis();
  const redis = new Redis(redisService.url);
  const ingress = createIngress(
    {
      port: 0,
      topicPrefix: prefix,
      redisKeyPrefix: `${uniqueName('ingress')}:`,
      sessionKeyPrefix: `${uniqueName('sessions')}:`,
      usersFile,
      policyFile: join(dir, 'policy.yaml'),
      signingKeyFile: join(dir, 'key.pem'),
      ...overrides,
    },
    { hub, declarations: [pushTargetDeclaration], logger: silentLogger(), redis },
  );
  const { url } = await ingress.start();

  const passwords = { pia: 'pia-secret-1', ada: 'ada-secret-1' };
  return {
    url,
    prefix,
    hub,
    ingress,
    signingKey: await readFile(join(dir, 'key.pem'), 'utf8'),
    async token(user) {
      const res = await fetch(`${url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, password: passwords[user] }),
      });
      if (res.status !== 200) throw new Error(`login of ${user} failed: ${res.status}`);
      return ((await res.json()) as { accessToken: string }).accessToken;
    },
    async records(topic) {
      const a = createHubAdmin(kafka);
      await a.start();
      const ends = await a.endOffsets(topic);
      await a.close();
      const out: Array<RangeRecord & { event: HubEvent<Record<string, unknown>> }> = [];
      await readRange({
        kafka,
        topic,
        ranges: ends.map((e) => ({ partition: e.partition, from: e.low, to: e.high })),
        async onBatch(_partition, records) {
          for (const r of records) {
            if (!r.value) continue;
            const { value } = await hub.serde.decode(r.value, {
              topic,
              partition: r.partition,
              offset: r.offset,
            });
            out.push({ ...r, event: value as HubEvent<Record<string, unknown>> });
          }
        },
      });
      return out;
    },
    async close() {
      await ingress.close();
      redis.disconnect();
      await redisService.release();
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
