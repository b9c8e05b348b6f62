import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ANCHOR_TOPIC } from '../../audit/anchors.ts';
import { formatClusterStatus, registerStatusCommands } from '../../cli/commands/status.ts';
import { HubError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { type ClusterStatus, readClusterStatus } from '../../hub/cluster-status.ts';
import { hubRunnerDeclaration, INSTANCES_TOPIC } from '../../hub/declaration.ts';
import { readInstances } from '../../hub/registry.ts';
import { type RunningHub, runHub } from '../../hub/run-hub.ts';
import { createHubAdmin, type HubAdmin } from '../../platform/admin.ts';
import { declareComponent } from '../../platform/declaration.ts';
import { hubDeclaration } from '../../platform/hub-declaration.ts';
import {
  ACTIONS_TOPIC,
  createActionEmitter,
  createHubContext,
  type HubContext,
} from '../../platform/index.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const { env: kafkaEnv } = testKafka();
let home: string;
let hub: HubContext;
let admin: HubAdmin;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tributary-hub-'));
  hub = await createHubContext({ env: kafkaEnv, logger: silentLogger() });
  admin = createHubAdmin(hub.kafka);
  await admin.start();
});

afterAll(async () => {
  await admin?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

/** Isolated names on the shared broker: a topic prefix and the groups and folders of the two components. */
function isolated() {
  const prefix = `${uniqueName('hub')}.`;
  return {
    prefix,
    auditGroup: uniqueName('hub-audit'),
    imageGroup: uniqueName('hub-image'),
    env: { ...kafkaEnv, TRIBUTARY_HOME: home, TRIBUTARY_HTTP_PORT: '0' },
    components: (auditExtra: Record<string, unknown> = {}) => ({
      'processor.image': { topicPrefix: prefix, groupId: '' },
      audit: {
        topic: prefix + ACTIONS_TOPIC,
        anchorTopic: prefix + ANCHOR_TOPIC,
        dir: join(home, uniqueName('audit')),
        checkpointIntervalMs: 1000,
        ...auditExtra,
      },
    }),
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('runHub', () => {
  it('runs the chosen components: ready, metrics, heartbeat, status; close() commits and says goodbye', async () => {
    const names = isolated();
    const components = names.components({ groupId: names.auditGroup });
    components['processor.image'].groupId = names.imageGroup;
    let running: RunningHub | undefined;
    try {
      running = await runHub({
        env: names.env,
        only: ['audit', 'processor.image'],
        config: { heartbeatIntervalMs: 500, components },
        demo: false,
        topicPrefix: names.prefix,
        logger: silentLogger(),
      });
      expect(running.components.map((c) => c.name)).toEqual(['processor.image', 'audit']);
      expect(running.describe().join('\n')).toContain(running.endpoints.http);

      const ready = await get(`${running.endpoints.http}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toEqual({ status: 'ready', reasons: [] });
      expect((await get(`${running.endpoints.http}/healthz`)).status).toBe(200);

      // An action flows through the audit consumer; its counter shows up in /metrics.
      const emitter = createActionEmitter({
        producer: hub.producer,
        source: 'test',
        topic: names.prefix + ACTIONS_TOPIC,
      });
      await emitter.emit({ action: 'test.ping', actor: 'tester', resource: 'thing-1', outcome: 'succeeded' });
      const metrics = await until('the audit to record the action', async () => {
        const text = (await get(`${running?.endpoints.http}/metrics`)).body;
        return /tributary_component_recorded_total\{component="audit"[^}]*\} 1\b/.test(text)
          ? text
          : undefined;
      });
      expect(metrics).toMatch(/tributary_component_up\{component="processor.image"[^}]*\} 1/);
      expect(metrics).toMatch(
        /tributary_component_breaker_state\{component="processor.image",breaker="runner.breaker"[^}]*\} 0/,
      );
      expect(metrics).toContain('tributary_component_lifecycle_seconds_bucket');
      expect(metrics).toContain('tributary_process_cpu_user_seconds_total');

      // `tributary status --json` lists the instance with its roles and per-component state.
      let printed = '';
      const program = new Command('tributary').exitOverride();
      registerStatusCommands(program, {
        env: kafkaEnv,
        write: (text) => {
          printed += text;
        },
      });
      await program.parseAsync(['status', '--json', '--topic', names.prefix + INSTANCES_TOPIC], {
        from: 'user',
      });
      const status = JSON.parse(printed) as ClusterStatus;
      const me = status.instances.find((i) => i.instanceId === running?.instanceId);
      expect(me?.roles).toEqual(['processor.image', 'audit']);
      expect(me?.stale).toBe(false);
      expect(me?.components.find((c) => c.name === 'processor.image')?.breakers).toEqual({
        'runner.breaker': 'closed',
      });
      expect(status.groups.map((g) => g.groupId)).toEqual(
        expect.arrayContaining([names.auditGroup, names.imageGroup]),
      );
      // The table a person sees.
      const table = formatClusterStatus(status);
      expect(table).toMatch(new RegExp(`^${running.instanceId} .* ready .*processor\\.image,audit$`, 'm'));
      expect(table).toMatch(new RegExp(`^${running.instanceId} +audit +running +0 `, 'm'));

      // Three missed heartbeats (of 500 ms) later, a reader would call it stale.
      const later = await readInstances({
        hub,
        topic: names.prefix + INSTANCES_TOPIC,
        now: Date.now() + 5_000,
      });
      expect(later.find((i) => i.instanceId === running?.instanceId)?.stale).toBe(true);

      const { timedOut } = await running.close('test');
      running = undefined;
      expect(timedOut).toBe(false);
    } finally {
      await running?.close();
    }
    // Closing committed the audit's work and left a tombstone in the registry.
    const committed = await admin.groupOffsets(names.auditGroup, [names.prefix + ACTIONS_TOPIC]);
    // -1 marks a partition the group never committed on (the action went to one of three).
    const offsets = committed.map((p) => Number(p.offset)).filter((o) => o >= 0);
    expect(offsets).toEqual([1]);
    const after = await readInstances({ hub, topic: names.prefix + INSTANCES_TOPIC });
    expect(after).toEqual([]);
    const groups = await admin.listGroups();
    expect(groups.find((g) => g.groupId === names.imageGroup)?.members ?? 0).toBe(0);
  });

  it('starts the demo system of an enabled connector and points the connector at it', async () => {
    const names = isolated();
    const running = await runHub({
      env: names.env,
      only: ['connector.crm'],
      config: { components: { 'connector.crm': { groupId: uniqueName('hub-crm'), pollIntervalMs: 200 } } },
      topicPrefix: names.prefix,
      logger: silentLogger(),
    });
    try {
      const demo = running.endpoints.demo.find((d) => d.title.includes('CRM'));
      expect(demo?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      type CrmStatus = {
        endpoints: { url: string }[];
        source: { streams: Record<string, { lastSyncAt: unknown; lastError: unknown }> };
      };
      const crm = running.components.find((c) => c.name === 'connector.crm');
      // Every stream syncs against the demo CRM with the demo's credentials, without an error.
      const status = await until('every CRM stream to sync once', async () => {
        const s = crm?.status() as CrmStatus;
        const streams = Object.values(s.source.streams);
        return streams.length > 0 && streams.every((t) => t.lastSyncAt !== null) ? s : undefined;
      });
      expect(status.endpoints.map((e) => e.url)).toEqual([demo?.url]);
      for (const stream of Object.values(status.source.streams)) expect(stream.lastError).toBeNull();
      expect((await get(`${running.endpoints.http}/readyz`)).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('abandons a component that does not close within shutdownTimeoutMs and says so', async () => {
    const names = isolated();
    let release: (() => void) | undefined;
    // A component stuck in close(), as one waiting on a hung external call would be.
    const stuck = declareComponent({
      name: 'test.stuck',
      kind: 'processor',
      description: 'Never finishes closing until the test lets it.',
      config: z.object({}).describe('none'),
      topics: [],
      produces: [],
      consumes: [],
      create: () => ({
        start: async () => undefined,
        close: () =>
          new Promise<void>((done) => {
            release = done;
          }),
      }),
    });
    const running = await runHub({
      env: names.env,
      declarations: [hubDeclaration, hubRunnerDeclaration, stuck],
      config: { shutdownTimeoutMs: 300, heartbeatIntervalMs: 500 },
      demo: false,
      topicPrefix: names.prefix,
      logger: silentLogger(),
    });
    expect(running.components.map((c) => c.name)).toEqual(['hub', 'hub.runner', 'test.stuck']);
    const outcome = await running.close('test');
    expect(outcome.timedOut).toBe(true);
    expect(running.components.find((c) => c.name === 'test.stuck')?.state()).toBe('stopping');
    release?.();
  });

  it('status on a cluster where no hub ever ran lists no instances', async () => {
    const statusAdmin = createHubAdmin(hub.kafka);
    await statusAdmin.start();
    try {
      const status = await readClusterStatus({
        hub,
        admin: statusAdmin,
        topic: uniqueName('no-registry'),
        deadLetterTopics: [],
      });
      expect(status.instances).toEqual([]);
    } finally {
      await statusAdmin.close();
    }
  });

  it('rejects naming the component that failed to start, and stops the ones it started', async () => {
    const names = isolated();
    const components = names.components({
      groupId: names.auditGroup,
      keyFile: join(home, 'no-such-keys.json'),
    });
    components['processor.image'].groupId = names.imageGroup;
    const err = await runHub({
      env: names.env,
      only: ['audit', 'processor.image'],
      config: { components },
      demo: false,
      topicPrefix: names.prefix,
      logger: silentLogger(),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('HUB_COMPONENT_FAILED');
    expect((err as HubError).message).toMatch(
      /^component audit failed to start: audit key file does not exist/,
    );
    expect((err as HubError).where.component).toBe('audit');
    // processor.image had started (it comes first) and was closed: its group has no members left.
    const groups = await admin.listGroups();
    const image = groups.find((g) => g.groupId === names.imageGroup);
    expect(image).toBeDefined();
    expect(image?.members).toBe(0);
  });
});
