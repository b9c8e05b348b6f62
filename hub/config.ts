import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HubError } from '../core/errors.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { envValue, invalid, mergeDeep, sectionsWithEnv, setPath } from './config-env.ts';
import { unknownKeys } from './zod-keys.ts';

/**
 * The hub's configuration: an optional file (`--config`, or TRIBUTARY_CONFIG), then the
 * environment. Every component's section is validated by that component's own zod schema;
 * an unknown component, an unknown key or a bad value stops start-up (CONFIG_INVALID) with a
 * message naming the component, the key and what was wrong.
 *
 * File shape (YAML or JSON):
 *   enabled: [audit, processor.chart]     # optional; default every declared component
 *   demo: true                            # start the demo ERP/CRM/HR systems
 *   http: { host: 127.0.0.1, port: 9464 } # health, readiness and metrics
 *   heartbeatIntervalMs: 5000
 *   components:
 *     audit: { dir: /var/lib/tributary/audit }
 *
 * Environment, applied over the file:
 *   TRIBUTARY__<COMPONENT>__<KEY>[__<SUBKEY>...]=value  one key of one component; the value is
 *     parsed as JSON when it parses (numbers, booleans, arrays), else taken as a string.
 *     COMPONENT is the declared name in upper case with `.` and `-` as `_` (CONNECTOR_CRM,
 *     MCP_BRIDGE, PROCESSOR_CHART); KEY matches the config key ignoring case and `_`
 *     (POLL_INTERVAL_MS -> pollIntervalMs).
 *   Well-known variables the components already honour: REDIS_URL, LDAP_URL,
 *     LDAP_USER_DN_TEMPLATE, LDAP_GROUPS_BASE_DN, TRIBUTARY_MCP_USERS, TRIBUTARY_MCP_POLICY,
 *     TRIBUTARY_MCP_KEY_FILE, TRIBUTARY_MCP_PUBLIC_URL (bridge); TRIBUTARY_AUDIT_DIR,
 *     TRIBUTARY_AUDIT_KEY_FILE, TRIBUTARY_AUDIT_KEYS (audit); OPENAI_API_KEY, OPENAI_BASE_URL,
 *     CHROMIUM_PATH, TRIBUTARY_BLOB_DIR (processors, read by them directly); KAFKA_* and
 *     SCHEMA_REGISTRY_* (platform). Hub: TRIBUTARY_HTTP_HOST, TRIBUTARY_HTTP_PORT,
 *     TRIBUTARY_DEMO=false, TRIBUTARY_ENABLED=a,b.
 */

export const hubSettingsSchema = z
  .object({
    enabled: z
      .array(z.string())
      .optional()
      .describe('Components to run (declared names); default every declared component'),
    demo: z
      .boolean()
      .default(true)
      .describe('Start the demo ERP, CRM and HR systems and point the connectors at them'),
    http: z
      .object({
        host: z.string().default('127.0.0.1').describe('Interface of the health and metrics server'),
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(9464)
          .describe('Port of /healthz, /readyz, /metrics (0 picks one)'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 9464 })
      .describe('Health, readiness and Prometheus metrics endpoint'),
    heartbeatIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(5_000)
      .describe('How often the instance heartbeats to _tributary.instances'),
    shutdownTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Longest graceful shutdown; components still closing after it are abandoned'),
    components: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .describe('Per-component config, by declared name, validated by that component'),
  })
  .strict();

export type HubSettings = z.infer<typeof hubSettingsSchema>;

/** The validated configuration: hub settings plus each enabled component's parsed config. */
export interface HubConfig extends Omit<HubSettings, 'components'> {
  /** Raw sections as given (file + env), before each component's schema filled defaults. */
  sections: Record<string, Record<string, unknown>>;
  /** Names of the components to run, in declaration order. */
  enabled: string[];
}

/** Reads a YAML or JSON config file; CONFIG_UNREADABLE / CONFIG_INVALID name the file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new HubError('CONFIG_UNREADABLE', `cannot read config file ${path}`, {
      cause: err,
      where: { file: path },
      hint: 'check the --config path (or TRIBUTARY_CONFIG)',
    });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text) ?? {};
  } catch (err) {
    throw new HubError(
      'CONFIG_INVALID',
      `config file ${path} is not YAML or JSON: ${(err as Error).message}`,
      {
        cause: err,
        where: { file: path },
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HubError('CONFIG_INVALID', `config file ${path} must hold a mapping at its top level`, {
      where: { file: path },
    });
  }
  return parsed as Record<string, unknown>;
}

export interface LoadHubConfigOptions {
  declarations: readonly ComponentDeclaration[];
  env?: NodeJS.ProcessEnv;
  /** Already-read file contents (tests) or a path to read; TRIBUTARY_CONFIG when neither. */
  file?: string | Record<string, unknown>;
  /** Command-line restrictions (`--only a,b`) that win over the file's `enabled`. */
  only?: readonly string[];
  /** `--no-demo`. */
  demo?: boolean;
}

/** Loads and validates the hub configuration; throws CONFIG_INVALID naming component, key and problem. */
export async function loadHubConfig(options: LoadHubConfigOptions): Promise<HubConfig> {
  const env = options.env ?? process.env;
  const origin = typeof options.file === 'string' ? options.file : (env.TRIBUTARY_CONFIG ?? 'config');
  const fileSource = options.file ?? env.TRIBUTARY_CONFIG;
  const raw = typeof fileSource === 'string' ? await readConfigFile(fileSource) : (fileSource ?? {});

  const byName = new Map(options.declarations.map((d) => [d.name, d]));
  const fromEnv: Record<string, unknown> = {};
  if (env.TRIBUTARY_HTTP_HOST) setPath(fromEnv, ['http', 'host'], env.TRIBUTARY_HTTP_HOST);
  if (env.TRIBUTARY_HTTP_PORT) setPath(fromEnv, ['http', 'port'], envValue(env.TRIBUTARY_HTTP_PORT));
  if (env.TRIBUTARY_DEMO) fromEnv.demo = env.TRIBUTARY_DEMO !== 'false' && env.TRIBUTARY_DEMO !== '0';
  if (env.TRIBUTARY_ENABLED)
    fromEnv.enabled = env.TRIBUTARY_ENABLED.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const merged = mergeDeep(raw, fromEnv);

  const settingsResult = hubSettingsSchema.safeParse(merged);
  if (!settingsResult.success) {
    const issue = settingsResult.error.issues[0];
    const key = issue?.path.join('.') || '(top level)';
    const keys = issue?.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw invalid(
      `hub config key ${key}${keys}: ${issue?.message ?? 'invalid'}`,
      { file: origin, field: key },
      'top-level keys: enabled, demo, http, heartbeatIntervalMs, shutdownTimeoutMs, components',
    );
  }
  const settings = settingsResult.data;

  // Sections: file, then the well-known variables, then TRIBUTARY__ variables.
  const sections = sectionsWithEnv(settings.components, options.declarations, env);

  for (const name of Object.keys(sections)) {
    if (!byName.has(name)) {
      throw invalid(
        `unknown component "${name}" in the config`,
        { file: origin, field: `components.${name}` },
        `declared components: ${[...byName.keys()].join(', ')}`,
      );
    }
  }
  const requested = options.only && options.only.length > 0 ? [...options.only] : settings.enabled;
  for (const name of requested ?? []) {
    if (!byName.has(name)) {
      throw invalid(
        `unknown component "${name}" to run`,
        { field: 'enabled' },
        `declared components: ${[...byName.keys()].join(', ')}`,
      );
    }
  }
  const enabled = options.declarations.map((d) => d.name).filter((n) => !requested || requested.includes(n));
  // Sections of components not run this time are checked too: a typo should not wait for the day they run.
  for (const name of new Set([...enabled, ...Object.keys(sections)])) {
    validateSection(byName.get(name) as ComponentDeclaration, sections[name] ?? {}, origin);
  }

  const { components: _ignored, ...rest } = settings;
  return { ...rest, demo: options.demo === false ? false : settings.demo, sections, enabled };
}

/** Parses one component's section with its schema; the first problem names component, key and what was wrong. */
export function validateSection(
  declaration: ComponentDeclaration,
  section: Record<string, unknown>,
  origin = 'config',
): unknown {
  const unknown = unknownKeys.find(declaration.config, section);
  if (unknown) {
    throw invalid(
      `component ${declaration.name}: unknown key "${unknown.path}"`,
      { file: origin, component: declaration.name, field: unknown.path },
      `known keys${unknown.parent ? ` of ${unknown.parent}` : ''}: ${unknown.known.join(', ')}`,
    );
  }
  const result = declaration.config.safeParse(section);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path.join('.') || '(section)';
    throw invalid(
      `component ${declaration.name}: bad value at "${key}": ${issue?.message ?? 'invalid'}`,
      { file: origin, component: declaration.name, field: key },
      'see the component declaration for its keys, types and defaults',
    );
  }
  return result.data;
}
