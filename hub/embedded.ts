import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createKeyFile, generateAuditKeyFile } from '../audit/keys.ts';
import { kafkaUp } from '../kit/kafka/index.ts';
import { tributaryHome } from '../kit/paths.ts';
import { createRedisKit } from '../kit/redis.ts';

/**
 * The embedded defaults of `tributary up` (README's first command): the local Kafka kit when
 * KAFKA_BROKERS is not set, a local Redis when REDIS_URL is not set, a DEVELOPMENT audit key
 * when none is configured, and files under TRIBUTARY_HOME. Production sets the variables and
 * none of this runs.
 */

export interface Provided<T> {
  value: T;
  /** Where it came from, for the start-up summary. */
  origin: string;
  /** Stops what was started for the hub (nothing when it was given). */
  stop(): Promise<void>;
}

const nothing = async () => undefined;

/** Brokers from KAFKA_BROKERS, else the local kit (started, or the running one reused). */
export async function provideKafka(
  env: NodeJS.ProcessEnv,
  onProgress: (line: string) => void,
): Promise<Provided<string>> {
  if (env.KAFKA_BROKERS) return { value: env.KAFKA_BROKERS, origin: 'KAFKA_BROKERS', stop: nothing };
  onProgress('no KAFKA_BROKERS: using the local Kafka kit (tributary kafka up)');
  const { alreadyRunning, cluster } = await kafkaUp({ env, onProgress });
  // The kit outlives the hub on purpose: its data and topics stay for the next `up`.
  return {
    value: cluster.brokers.join(','),
    origin: alreadyRunning
      ? 'local kit (already running)'
      : 'local kit (started; `tributary kafka down` stops it)',
    stop: nothing,
  };
}

/** Redis from REDIS_URL (or the bridge config), else a local redis-server that stops with the hub. */
export async function provideRedis(configured: string | undefined): Promise<Provided<string>> {
  if (configured) return { value: configured, origin: 'REDIS_URL', stop: nothing };
  const kit = createRedisKit();
  const { url } = await kit.start();
  return { value: url, origin: 'local redis-server (stops with the hub)', stop: () => kit.stop() };
}

/** The same words `tributary audit init` prints: a development key must never go unnoticed. */
export function developmentKeyBanner(path: string): string {
  return [
    '',
    '  *** DEVELOPMENT AUDIT KEY FILE ***',
    `  Created ${path} (mode 0600): encryption and signing keys in plain text on this disk.`,
    '  Use it for development only. In production provision keys from a secret store and pass them',
    '  as TRIBUTARY_AUDIT_KEY_FILE or TRIBUTARY_AUDIT_KEYS. Losing this file makes the audit unreadable.',
    '',
  ].join('\n');
}

/**
 * Fills the embedded defaults into the audit section: store and key file under TRIBUTARY_HOME;
 * creates the development key file when no key is configured anywhere and none exists yet.
 */
export async function embeddedAuditSection(
  section: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  warn: (text: string) => void,
): Promise<Record<string, unknown>> {
  const home = tributaryHome(env);
  const out: Record<string, unknown> = { dir: join(home, 'audit'), ...section };
  if (out.keyFile || env.TRIBUTARY_AUDIT_KEYS || env.TRIBUTARY_AUDIT_KEY_FILE) return out;
  const keyFile = join(home, 'audit-keys.json');
  if (!existsSync(keyFile)) {
    await createKeyFile(keyFile, generateAuditKeyFile({ development: true }));
    warn(developmentKeyBanner(keyFile));
  }
  return { ...out, keyFile };
}

/** Embedded defaults of the MCP bridge: users file and signing key under TRIBUTARY_HOME. */
export function embeddedBridgeSection(
  section: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const home = tributaryHome(env);
  return {
    usersFile: join(home, 'mcp', 'users.json'),
    signingKeyFile: join(home, 'mcp', 'signing-key.pem'),
    ...section,
  };
}
