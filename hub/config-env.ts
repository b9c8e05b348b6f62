import { HubError } from '../core/errors.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { unknownKeys } from './zod-keys.ts';

/**
 * The environment's part of the hub config: the well-known variables the components already
 * honour (REDIS_URL, LDAP_URL, TRIBUTARY_MCP_*, TRIBUTARY_AUDIT_*) and the generic
 * `TRIBUTARY__<COMPONENT>__<KEY>[__<SUBKEY>]=value` overrides (see hub/config.ts).
 */

/** `connector.crm` -> `CONNECTOR_CRM`: how a component is named in TRIBUTARY__ variables. */
export function envNameOf(componentName: string): string {
  return componentName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

const squash = (s: string) => s.toLowerCase().replaceAll('_', '');

/** Parses a variable's text as JSON when it is JSON, else keeps the text. */
export function envValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Maps a TRIBUTARY__ key segment to the config key it means, using the keys the schema knows. */
function keyFor(segment: string, known: readonly string[]): string {
  return known.find((k) => squash(k) === squash(segment)) ?? segment;
}

/** Sections from the well-known variables the components already read. */
function wellKnownSections(env: NodeJS.ProcessEnv): Record<string, Record<string, unknown>> {
  const bridge: Record<string, unknown> = {};
  if (env.REDIS_URL) bridge.redisUrl = env.REDIS_URL;
  if (env.LDAP_URL) {
    bridge.ldap = {
      url: env.LDAP_URL,
      ...(env.LDAP_USER_DN_TEMPLATE ? { userDnTemplate: env.LDAP_USER_DN_TEMPLATE } : {}),
      ...(env.LDAP_GROUPS_BASE_DN ? { groupsBaseDn: env.LDAP_GROUPS_BASE_DN } : {}),
    };
  }
  if (env.TRIBUTARY_MCP_USERS) bridge.usersFile = env.TRIBUTARY_MCP_USERS;
  if (env.TRIBUTARY_MCP_POLICY) bridge.policyFile = env.TRIBUTARY_MCP_POLICY;
  if (env.TRIBUTARY_MCP_KEY_FILE) bridge.signingKeyFile = env.TRIBUTARY_MCP_KEY_FILE;
  if (env.TRIBUTARY_MCP_PUBLIC_URL) bridge.publicUrl = env.TRIBUTARY_MCP_PUBLIC_URL;
  const ingress: Record<string, unknown> = { ...bridge };
  delete ingress.publicUrl;
  if (env.TRIBUTARY_INGRESS_PUBLIC_URL) ingress.publicUrl = env.TRIBUTARY_INGRESS_PUBLIC_URL;
  if (env.TRIBUTARY_INGRESS_MAX_BODY) ingress.maxBodyBytes = Number(env.TRIBUTARY_INGRESS_MAX_BODY);
  const audit: Record<string, unknown> = {};
  if (env.TRIBUTARY_AUDIT_DIR) audit.dir = env.TRIBUTARY_AUDIT_DIR;
  if (env.TRIBUTARY_AUDIT_KEY_FILE) audit.keyFile = env.TRIBUTARY_AUDIT_KEY_FILE;
  return { 'mcp-bridge': bridge, ingress, audit };
}

export function mergeDeep(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects =
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b);
    out[k] = bothObjects ? mergeDeep(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** TRIBUTARY__ key segments -> config keys, matched against the schema's keys level by level. */
function resolveEnvPath(declaration: ComponentDeclaration, segments: string[]): string[] {
  const out: string[] = [];
  let schema: unknown = declaration.config;
  for (const segment of segments) {
    const keys = unknownKeys.shapeKeys(schema);
    const key = keyFor(segment, keys);
    out.push(key);
    schema = unknownKeys.child(schema, key);
  }
  return out;
}

/** A CONFIG_INVALID error (exit 1) naming where the problem is and what to do. */
export function invalid(message: string, where: Record<string, string>, hint?: string): HubError {
  return new HubError('CONFIG_INVALID', message, { where, ...(hint ? { hint } : {}) });
}

/** Component sections after the environment: file sections, then well-known variables, then TRIBUTARY__ ones. */
export function sectionsWithEnv(
  fromFile: Record<string, Record<string, unknown>>,
  declarations: readonly ComponentDeclaration[],
  env: NodeJS.ProcessEnv,
): Record<string, Record<string, unknown>> {
  const byName = new Map(declarations.map((d) => [d.name, d]));
  let sections: Record<string, Record<string, unknown>> = { ...fromFile };
  for (const [name, section] of Object.entries(wellKnownSections(env))) {
    if (Object.keys(section).length > 0 && byName.has(name)) {
      sections[name] = mergeDeep(sections[name] ?? {}, section);
    }
  }
  const envNames = new Map(declarations.map((d) => [envNameOf(d.name), d]));
  for (const [variable, text] of Object.entries(env)) {
    if (!variable.startsWith('TRIBUTARY__') || text === undefined) continue;
    const [componentPart, ...keyParts] = variable.slice('TRIBUTARY__'.length).split('__');
    const declaration = envNames.get(componentPart ?? '');
    if (!declaration || keyParts.length === 0) {
      throw invalid(
        `environment variable ${variable} names no declared component`,
        { field: variable },
        `use TRIBUTARY__<COMPONENT>__<KEY> with COMPONENT one of ${[...envNames.keys()].join(', ')}`,
      );
    }
    const section = { ...(sections[declaration.name] ?? {}) };
    setPath(section, resolveEnvPath(declaration, keyParts), envValue(text));
    sections = { ...sections, [declaration.name]: section };
  }
  return sections;
}
