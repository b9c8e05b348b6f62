import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditConsumer } from '../../audit/consumer.ts';
import { generateAuditKeyFile, parseAuditKeys } from '../../audit/keys.ts';
import { createLogger } from '../../core/logger.ts';
import { createKafkaHubTools } from '../../mcp-bridge/hub-tools.ts';
import { createBridgeHttpServer } from '../../mcp-bridge/server.ts';
import {
  createActionEmitter,
  createDeadLetterWriter,
  createEventConsumer,
  createHubContext,
  kafkaConfigSchema,
} from '../../platform/index.ts';
import { createLdapDirectory, generateSigningKeyPem } from '../../security/index.ts';
import { testPolicy } from '../mcp-bridge/fixture-tools.ts';
import { testKafka } from '../support/kafka.ts';
import { useTestLdap } from '../support/ldap.ts';
import { uniqueName } from '../support/names.ts';
import { useTestRedis } from '../support/redis.ts';
import { createTopics, waitUntil } from './support.ts';
import { createTally } from './tally.ts';

/**
 * A small real flow with every log captured at debug level: LDAP logins (right and wrong
 * passwords), JWTs signed with a real key, a refresh and a logout, a forged token, a tool call
 * publishing to Kafka, a consumer with a failing record, and the audit consumer encrypting the
 * actions with a real key. No secret of the run may appear in any log line.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

/** Collects every log line written to it. */
function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let partial = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      const text = partial + String(chunk);
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
      done();
    },
  });
  return { stream, lines };
}

/** The secret itself, and for long key material every 24-character slice of it. */
function needles(secret: string): string[] {
  const body = secret.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  if (body.length < 48) return [secret];
  const out = [];
  for (let i = 0; i + 24 <= body.length; i += 12) out.push(body.slice(i, i + 24));
  return out;
}

describe('no secret in any log of a real flow', () => {
  it('logins, tokens, signing key, LDAP passwords and audit keys never reach a log line', {
    timeout: 90_000,
  }, async () => {
    const { stream, lines } = logSink();
    const logger = createLogger('reliability', { level: 'trace', destination: stream });
    const testRedis = await useTestRedis();
    const testLdap = await useTestLdap();
    const redis = new Redis(testRedis.url, { maxRetriesPerRequest: 2 });
    const dir = await mkdtemp(join(tmpdir(), 'tributary-rel-secrets-'));
    const kafka = testKafka();
    const hub = await createHubContext({
      env: { KAFKA_BROKERS: kafka.brokers.join(',') },
      kafkaSettings: kafkaConfigSchema.parse({ brokers: kafka.brokers, clientId: uniqueName('rel-secrets') }),
      schemaLogTopic: uniqueName('rel-secrets-schemas'),
      logger,
    });
    const actionsTopic = uniqueName('rel.secrets.actions');
    const eventsTopic = uniqueName('rel.secrets.events');
    await createTopics(hub.kafka, [actionsTopic, eventsTopic, `${eventsTopic}.dlq`], 1);

    const signingKey = generateSigningKeyPem();
    const keyFile = generateAuditKeyFile({ development: true });
    const keys = parseAuditKeys(JSON.stringify(keyFile), 'test');
    const actions = createActionEmitter({
      producer: hub.producer,
      source: 'mcp-bridge',
      topic: actionsTopic,
    });
    const hubTools = createKafkaHubTools(hub, new Map([[eventsTopic, 'tributary.audit.Action']]));
    const bridge = createBridgeHttpServer(
      { port: 0, redisKeyPrefix: `rel-${randomUUID()}:` },
      {
        redis,
        directory: createLdapDirectory({ url: testLdap.url }),
        policy: testPolicy,
        signingKey,
        tools: hubTools.tools,
        emitAction: (action) => actions.emit(action),
        logger: logger.child({ component: 'mcp-bridge' }),
      },
    );
    const audit = createAuditConsumer(
      { dir, topic: actionsTopic, groupId: uniqueName('rel-secrets-audit'), checkpointEvery: 2 },
      { kafka: hub.kafka, serde: hub.serde, keys, logger },
    );
    const seen: string[] = [];
    const reader = createEventConsumer({
      kafka: hub.kafka,
      serde: hub.serde,
      groupId: uniqueName('rel-secrets-reader'),
      topics: [eventsTopic],
      deadLetters: createDeadLetterWriter({ producer: hub.producer }),
      logger,
      retry: { retries: 1, initialDelayMs: 10, maxDelayMs: 20 },
      async handler(event) {
        seen.push(event.envelope.id);
      },
    });
    const secrets: Record<string, string> = {};
    try {
      const { url } = await bridge.start();
      await audit.start();
      await reader.start();
      const post = (path: string, body: unknown, token?: string) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        });

      secrets['alice LDAP password'] = 'alice-secret-1';
      secrets['a wrong password tried'] = `wrong-${randomUUID()}`;
      expect(
        (await post('/auth/login', { username: 'alice', password: secrets['a wrong password tried'] }))
          .status,
      ).toBe(401);
      const login = (await (
        await post('/auth/login', { username: 'alice', password: 'alice-secret-1' })
      ).json()) as {
        accessToken: string;
        refreshToken: string;
      };
      secrets['access token'] = login.accessToken;
      secrets['access token signature'] = login.accessToken.split('.')[2]!;
      // A refresh token is `<session id>.<secret>`; the session id is logged on purpose, the secret never.
      secrets['refresh token secret'] = login.refreshToken.split('.')[1]!;

      const publish = await post(
        '/mcp',
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'events.publish',
            arguments: {
              topic: eventsTopic,
              type: 'tributary.audit.Action',
              subject: 'secret-flow',
              data: {
                action: 'x',
                actor: 'alice',
                resource: 'r',
                outcome: 'succeeded',
                argsDigest: null,
                subjectId: null,
                details: {},
              },
            },
          },
        },
        login.accessToken,
      );
      expect(publish.status).toBe(200);
      // A forged token (real claims, another signature) and a bad record for the consumer's DLQ path.
      const forged = `${login.accessToken.split('.').slice(0, 2).join('.')}.${Buffer.from(randomUUID()).toString('base64url')}`;
      secrets['forged token signature'] = forged.split('.')[2]!;
      expect((await post('/mcp', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, forged)).status).toBe(401);
      await hub.producer.publishRaw(eventsTopic, [
        { key: 'bad', value: Buffer.from('not avro'), headers: {} },
      ]);

      const refreshed = (await (
        await post('/auth/refresh', { refreshToken: login.refreshToken })
      ).json()) as {
        accessToken: string;
        refreshToken: string;
      };
      secrets['refreshed access token'] = refreshed.accessToken;
      secrets['rotated refresh token secret'] = refreshed.refreshToken.split('.')[1]!;
      expect((await post('/auth/refresh', { refreshToken: login.refreshToken })).status).toBe(401);
      await post('/auth/logout', {}, refreshed.accessToken);

      secrets['JWT signing key'] = signingKey;
      secrets['audit encryption key'] = keyFile.encryption.keys[0]!.key;
      secrets['audit signing key'] = String(keyFile.signing.keys[0]?.privateKey);

      await waitUntil(
        'the event read and the bad record dead-lettered',
        () => seen.length >= 1 && reader.status().deadLettered >= 1,
        30_000,
      );
      await waitUntil('the audit to record the actions', () => audit.status().recorded >= 4, 30_000);
    } finally {
      await reader.close();
      await audit.close();
      await bridge.close();
      await hubTools.close();
      await hub.close();
      redis.disconnect();
      await testRedis.release();
      await testLdap.release();
      await rm(dir, { recursive: true, force: true });
    }
    await new Promise((resolve) => setImmediate(resolve));

    // The capture works: the flow did log (a dead letter, a refused login or refresh, the audit).
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.some((l) => l.includes('dead-letter'))).toBe(true);
    const leaks: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      for (const needle of needles(secret)) {
        const line = lines.find((l) => l.includes(needle));
        if (line) {
          leaks.push(`${name} in: ${line.slice(0, 300)}`);
          break;
        }
      }
    }
    const messages = [...new Set(lines.map((l) => String((JSON.parse(l) as { msg?: string }).msg)))];
    tally.add(
      {},
      `secrets in logs: ${Object.keys(secrets).length} secrets checked against ${lines.length} trace-level log lines (${messages.join('; ')})`,
    );
    expect(leaks).toEqual([]);
  });
});
