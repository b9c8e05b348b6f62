import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { createFaultGate, type FaultGate } from '../faults.ts';

/**
 * The demo HR system: a SCIM 2.0 service provider built on scimmy and scimmy-routers (express),
 * with Users (core + enterprise extension) and Groups kept in memory. scimmy parses filters,
 * PatchOp messages, sorting and startIndex/count paging; this file only stores resources.
 * scimmy declares resources globally, so a process runs at most one HR server.
 */
export interface HrServer {
  /** SCIM base, e.g. `http://127.0.0.1:4712/scim/v2`. */
  readonly url: string;
  /** Bearer token the server accepts. */
  readonly token: string;
  readonly faults: FaultGate;
  /** Direct access to the store, as the HR system's own UI would change data. */
  readonly users: Map<string, StoredResource>;
  readonly groups: Map<string, StoredResource>;
  /** Write requests that reached the SCIM routers (after faults). */
  readonly writes: { count: number };
  /** Changes applied per `<Users|Groups>:<userName or displayName>` (creates and updates). */
  readonly changes: Map<string, number>;
  /** Stamps a change made directly in the store (meta.lastModified moves on). */
  touch(resource: StoredResource): void;
  close(): Promise<void>;
}

export type StoredResource = Record<string, unknown> & {
  id: string;
  meta: { created: Date; lastModified: Date };
};

let running: HrServer | undefined;

/** Starts the SCIM server on a free loopback port (or `port`). */
export async function startHrServer(
  options: { port?: number; host?: string; token?: string } = {},
): Promise<HrServer> {
  if (running) throw new Error('one HR server per process: scimmy declares resources globally');
  const token = options.token ?? 'hr-demo-token';
  const users = new Map<string, StoredResource>();
  const groups = new Map<string, StoredResource>();
  // Strictly increasing stamps: two changes in the same millisecond must still be ordered.
  let lastStamp = 0;
  const stamp = (): Date => {
    lastStamp = Math.max(Date.now(), lastStamp + 1);
    return new Date(lastStamp);
  };
  const touch = (r: StoredResource): void => {
    r.meta.lastModified = stamp();
  };

  const changes = new Map<string, number>();
  const count = (store: Map<string, StoredResource>, r: Record<string, unknown>) => {
    const key = `${store === users ? 'Users' : 'Groups'}:${String(r.userName ?? r.displayName ?? '')}`;
    changes.set(key, (changes.get(key) ?? 0) + 1);
  };
  const handlers = (store: Map<string, StoredResource>) => ({
    egress: (resource: { id?: string; filter?: { match(v: unknown[]): unknown[] } }) => {
      if (resource.id) {
        const found = store.get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, null as never, `Resource ${resource.id} not found`);
        return found;
      }
      const all = [...store.values()];
      return resource.filter ? resource.filter.match(all) : all;
    },
    ingress: (resource: { id?: string }, data: Record<string, unknown>) => {
      if (resource.id) {
        const existing = store.get(resource.id);
        if (!existing) throw new SCIMMY.Types.Error(404, null as never, `Resource ${resource.id} not found`);
        const updated: StoredResource = { ...plain(data), id: existing.id, meta: existing.meta };
        touch(updated);
        store.set(existing.id, updated);
        count(store, updated);
        return updated;
      }
      const userName = data.userName;
      // The HR system's own rule: logins are lower-case corporate ids.
      if (store === users && !/^[a-z0-9][a-z0-9._-]*$/.test(String(userName ?? ''))) {
        throw new SCIMMY.Types.Error(
          400,
          'invalidValue',
          `userName "${String(userName)}" is not a corporate login (a-z, 0-9, . _ -)`,
        );
      }
      if (userName && [...store.values()].some((u) => u.userName === userName)) {
        throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${String(userName)} already exists`);
      }
      const now = stamp();
      const created: StoredResource = {
        ...plain(data),
        id: randomUUID(),
        meta: { created: now, lastModified: now },
      };
      store.set(created.id, created);
      count(store, created);
      return created;
    },
    degress: (resource: { id?: string }) => {
      if (!resource.id || !store.delete(resource.id)) {
        throw new SCIMMY.Types.Error(404, null as never, `Resource ${resource.id} not found`);
      }
    },
  });

  const userHandlers = handlers(users);
  const groupHandlers = handlers(groups);
  SCIMMY.Resources.declare(SCIMMY.Resources.User, {});
  SCIMMY.Resources.declare(SCIMMY.Resources.Group, {});
  SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser, false)
    .egress(userHandlers.egress as never)
    .ingress(userHandlers.ingress as never)
    .degress(userHandlers.degress as never);
  SCIMMY.Resources.Group.egress(groupHandlers.egress as never)
    .ingress(groupHandlers.ingress as never)
    .degress(groupHandlers.degress as never);
  SCIMMY.Config.set({ patch: true, filter: { supported: true, maxResults: 1000 }, sort: true });

  const app = express();
  // scimmy only honours startIndex/count when they are numbers, and express hands over strings.
  app.set('query parser', (query: string) => {
    const parsed: Record<string, string | number> = {};
    for (const [k, v] of new URLSearchParams(query)) {
      parsed[k] = (k === 'startIndex' || k === 'count') && /^\d+$/.test(v) ? Number(v) : v;
    }
    return parsed;
  });
  const writes = { count: 0 };
  app.use((req, _res, next) => {
    if (req.method !== 'GET') writes.count += 1;
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      docUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
      handler: (req: express.Request) => {
        if (req.header('authorization') !== `Bearer ${token}`) throw new Error('Authorization failed');
        return 'hr-admin';
      },
    }) as unknown as express.Router,
  );

  const faults = createFaultGate();
  const server: Server = createServer(faults.wrap((req, res) => app(req as never, res as never)));
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const hr: HrServer = {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/scim/v2`,
    token,
    faults,
    users,
    groups,
    writes,
    changes,
    touch,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      running = undefined;
    },
  };
  running = hr;
  return hr;
}

/** scimmy hands over proxied schema instances; the store keeps plain JSON (dates restored below). */
function plain(data: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  delete copy.meta;
  return copy;
}
