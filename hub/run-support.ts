import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANCHOR_TOPIC } from '../audit/anchors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { projectRoot } from '../kit/paths.ts';
import { ACTIONS_TOPIC } from '../platform/actions.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { hubDeclarations } from '../topology/declarations.ts';
import type { Cleanup } from './cleanups.ts';
import type { HubConfig } from './config.ts';
import type { DemoSystem } from './demo-systems.ts';
import { embeddedAuditSection, embeddedBridgeSection, provideRedis } from './embedded.ts';
import type { Readiness } from './http.ts';
import type { Heartbeat } from './registry.ts';
import type { HostedComponent } from './supervisor.ts';
import { unknownKeys } from './zod-keys.ts';

/** Every declared component of the hub (topology/declarations.ts). */
export function defaultDeclarations(): readonly ComponentDeclaration[] {
  return hubDeclarations;
}

/**
 * The loggers of a hub process: `logger` for its own lines (component `self`) and one per
 * component with that component's name, each line carrying `instanceId`. A component logger is
 * never a child of the process logger: pino would write `component` twice on its lines.
 * A `given` logger (tests) should have no `component` of its own.
 */
export function processLoggers(
  self: string,
  instanceId: string,
  given?: Logger,
): { logger: Logger; loggerFor: (name: string) => Logger } {
  return {
    logger: (given ?? createLogger(self)).child({ instanceId }),
    loggerFor: (name) =>
      given ? given.child({ instanceId, component: name }) : createLogger(name).child({ instanceId }),
  };
}

/** Ready when every component runs and Kafka acknowledged a heartbeat within three intervals. */
export function readinessOf(
  hosted: readonly HostedComponent[],
  heartbeat: Heartbeat | undefined,
  intervalMs: number,
): Readiness {
  const reasons: string[] = [];
  for (const c of hosted) if (c.state() !== 'running') reasons.push(`component ${c.name} is ${c.state()}`);
  if (hosted.length === 0) reasons.push('components are not started yet');
  const ack = heartbeat?.lastAcknowledgedAt() ?? 0;
  if (Date.now() - ack > 3 * intervalMs) {
    reasons.push(
      ack === 0
        ? 'no heartbeat reached Kafka yet'
        : `Kafka has not acknowledged a heartbeat for ${Date.now() - ack} ms`,
    );
  }
  return { ready: reasons.length === 0, reasons };
}

let version: string | undefined;

/** The version in package.json (the build the process runs). */
export function hubVersion(): string {
  if (version) return version;
  try {
    version = String(
      JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version ?? 'unknown',
    );
  } catch {
    version = 'unknown';
  }
  return version;
}

export interface PreparedSections {
  sections: Record<string, Record<string, unknown>>;
  mcpUrl?: string;
  /** Where the HTTP ingress listens (POST /v1/events/{type}, /openapi.json). */
  ingressUrl?: string;
  /** How a person gets a token for the bridge (development and login paths). */
  mcpToken?: string;
  auditDir?: string;
}

/**
 * Fills each enabled component's section with what only the running hub knows: demo system
 * URLs, a Redis for the bridge, the development audit key, paths under TRIBUTARY_HOME.
 * What the config sets explicitly always wins.
 */
export async function prepareSections(options: {
  config: HubConfig;
  env: NodeJS.ProcessEnv;
  demo: readonly DemoSystem[];
  say: (line: string) => void;
  cleanups: Cleanup[];
  declarations: readonly ComponentDeclaration[];
  /** Test isolation: the prefix the topology was applied with, handed to components that take one. */
  topicPrefix?: string;
}): Promise<PreparedSections> {
  const { config, env, say } = options;
  const sections: Record<string, Record<string, unknown>> = {};
  const out: PreparedSections = { sections };
  let redisUrl: string | undefined;
  /** One Redis for every component that needs it: the configured one, else one local redis-server. */
  async function sharedRedis(configured: string | undefined): Promise<string> {
    if (configured) return configured;
    if (redisUrl) return redisUrl;
    const redis = await provideRedis(undefined);
    options.cleanups.push({ what: 'redis', run: () => redis.stop() });
    say(`no REDIS_URL: started a ${redis.origin} at ${redis.value}`);
    redisUrl = redis.value;
    return redisUrl;
  }
  for (const name of config.enabled) {
    let section = { ...(config.sections[name] ?? {}) };
    const demo = options.demo.find((d) => d.connector === name);
    if (demo && section.http === undefined) section = { ...demo.section, ...section };
    const prefix = options.topicPrefix;
    if (prefix) {
      const declaration = options.declarations.find((d) => d.name === name);
      const keys = unknownKeys.shapeKeys(declaration?.config);
      if (keys.includes('topicPrefix')) section = { topicPrefix: prefix, ...section };
      if (name === 'audit')
        section = { topic: prefix + ACTIONS_TOPIC, anchorTopic: prefix + ANCHOR_TOPIC, ...section };
    }
    if (name === 'audit') {
      section = await embeddedAuditSection(section, env, say);
      out.auditDir = String(section.dir);
    }
    if (name === 'mcp-bridge' || name === 'ingress') {
      // The bridge and the ingress share one login: the same users, signing key and Redis.
      section = embeddedBridgeSection(section, env);
      const redis = await sharedRedis(typeof section.redisUrl === 'string' ? section.redisUrl : undefined);
      section.redisUrl = redis;
      const host = typeof section.host === 'string' ? section.host : '127.0.0.1';
      if (name === 'ingress') {
        const port = typeof section.port === 'number' ? section.port : 7400;
        out.ingressUrl = typeof section.publicUrl === 'string' ? section.publicUrl : `http://${host}:${port}`;
      } else {
        const port = typeof section.port === 'number' ? section.port : 7300;
        const path = typeof section.mcpPath === 'string' ? section.mcpPath : '/mcp';
        const home = env.TRIBUTARY_HOME ? `TRIBUTARY_HOME=${env.TRIBUTARY_HOME} ` : '';
        out.mcpToken =
          `development: ${home}REDIS_URL=${redis} tributary mcp token --user <you>; ` +
          `or ${home}tributary mcp users add <you> --groups admins, then POST /auth/login`;
        out.mcpUrl =
          typeof section.publicUrl === 'string'
            ? `${section.publicUrl}${path}`
            : `http://${host}:${port}${path}`;
      }
    }
    sections[name] = section;
  }
  return out;
}
