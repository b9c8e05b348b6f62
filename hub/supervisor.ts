import { HubError, toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { HubAdmin } from '../platform/admin.ts';
import type { Component, ComponentDeclaration, ComponentDeps } from '../platform/declaration.ts';
import type { HubContext } from '../platform/index.ts';
import type { Cleanup } from './cleanups.ts';
import { validateSection } from './config.ts';
import type { HubMetrics } from './metrics.ts';
import type { ComponentBeat } from './registry.ts';
import { digestStatus } from './status-digest.ts';

/**
 * Creates and starts the enabled components one by one in declaration order, and closes them
 * in reverse. A component that fails to create or start stops the hub with its name and cause.
 */

export type ComponentState = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

export interface HostedComponent {
  readonly name: string;
  state(): ComponentState;
  status(): unknown;
  /** This component's part of a heartbeat; also refreshes its lag gauge. */
  beat(admin: HubAdmin, metrics: HubMetrics): Promise<ComponentBeat>;
  /** Pauses or resumes it (an operator command); false when it cannot be paused or is not running. */
  command?(command: 'pause' | 'resume'): boolean;
}

export interface StartComponentsOptions {
  declarations: readonly ComponentDeclaration[];
  enabled: readonly string[];
  sections: Record<string, Record<string, unknown>>;
  hub: HubContext;
  logger: Logger;
  /**
   * The logger of one component. Default: a child of `logger` with `component`, which is only
   * right when `logger` has no `component` of its own (pino would write the key twice).
   */
  loggerFor?: (name: string) => Logger;
  metrics: HubMetrics;
  say: (line: string) => void;
  /** Each started component's close() is pushed here, so shutdown runs in reverse order. */
  cleanups: Cleanup[];
}

/** Sums the lag of every consumer group the component reports; null when it reports none. */
async function lagOf(
  name: string,
  groupIds: string[],
  admin: HubAdmin,
  metrics: HubMetrics,
): Promise<number | null> {
  if (groupIds.length === 0) return null;
  let total = 0;
  for (const group of groupIds) {
    const partitions = await admin.groupLag(group).catch(() => []);
    const lag = partitions.reduce((sum, p) => sum + p.lag, 0);
    metrics.setLag(name, group, lag);
    total += lag;
  }
  return total;
}

/**
 * The hosted view of one component (state, status, heartbeat part) over getters, for the
 * supervisor and for runners that start their components themselves (`connectors run`).
 */
export function hostedComponent(options: {
  name: string;
  state: () => ComponentState;
  component: () => { status?: () => unknown; pause?: () => void; resume?: () => void } | undefined;
  /** A group the component's status may omit (the audit's is only in its config). */
  groupId?: string;
}): HostedComponent {
  const { name } = options;
  const statusOf = () => options.component()?.status?.() ?? {};
  return {
    name,
    state: options.state,
    status: statusOf,
    command(command) {
      const target = options.component();
      const apply = command === 'pause' ? target?.pause : target?.resume;
      if (!apply) return false;
      apply.call(target);
      return true;
    },
    async beat(admin, metrics) {
      let status: unknown = {};
      try {
        status = statusOf();
      } catch (err) {
        status = { statusError: toHubError(err).message };
      }
      const digest = digestStatus(status);
      if (options.groupId && !digest.groupIds.includes(options.groupId))
        digest.groupIds.push(options.groupId);
      return {
        name,
        state: options.state(),
        groups: digest.groupIds,
        lag: await lagOf(name, digest.groupIds, admin, metrics),
        deadLettered: digest.counters.deadLettered ?? null,
        breakers: digest.breakers,
        statusJson: JSON.stringify(status),
      };
    },
  };
}

/** Starts the enabled components; on failure closes the ones it started and throws HUB_COMPONENT_FAILED. */
export async function startComponents(options: StartComponentsOptions): Promise<HostedComponent[]> {
  const hosted: HostedComponent[] = [];
  const byName = new Map(options.declarations.map((d) => [d.name, d]));
  for (const name of options.enabled) {
    const declaration = byName.get(name) as ComponentDeclaration;
    const config = validateSection(declaration, options.sections[name] ?? {});
    const logger = options.loggerFor?.(name) ?? options.logger.child({ component: name });
    // `kafka` is today's name of the HubContext in deps; `hub` is tomorrow's. Both are harmless.
    const deps: ComponentDeps = { logger, hub: options.hub };
    let state: ComponentState = 'starting';
    let component: Component | undefined;
    const configured = (config as { groupId?: unknown } | undefined)?.groupId;
    const entry = hostedComponent({
      name,
      state: () => state,
      component: () => component,
      ...(typeof configured === 'string' ? { groupId: configured } : {}),
    });
    hosted.push(entry);
    options.say(`starting ${name}`);
    const began = performance.now();
    try {
      component = declaration.create(config, deps);
      await component.start();
    } catch (err) {
      state = 'failed';
      const cause = toHubError(err);
      // close() may hold resources start() acquired before failing.
      await component?.close().catch(() => undefined);
      throw new HubError('HUB_COMPONENT_FAILED', `component ${name} failed to start: ${cause.message}`, {
        cause: err,
        where: { component: name, ...cause.where },
        ...(cause.hint ? { hint: cause.hint } : {}),
      });
    }
    state = 'running';
    options.metrics.observeLifecycle(name, 'start', (performance.now() - began) / 1000);
    logger.info({ ms: Math.round(performance.now() - began) }, 'component started');
    const running = component;
    options.cleanups.push({
      what: `component ${name}`,
      async run() {
        state = 'stopping';
        const closing = performance.now();
        try {
          await running.close();
          state = 'stopped';
        } catch (err) {
          state = 'failed';
          throw err;
        } finally {
          options.metrics.observeLifecycle(name, 'close', (performance.now() - closing) / 1000);
          logger.info({ ms: Math.round(performance.now() - closing) }, 'component closed');
        }
      },
    });
  }
  return hosted;
}
