/// <reference path="./cds.d.ts" />
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cds from '@sap/cds';
import express from 'express';
import { createFaultGate, type FaultGate } from '../faults.ts';
import { createRepeatabilityGuard } from './repeatability.ts';

/**
 * The demo ERP: SAP CAP serving `model.cds` over OData v4 from an in-memory SQLite database
 * (node:sqlite, so no native build). CAP keeps one model and one database per process, so a
 * process runs at most one ERP server.
 */
export interface ErpServer {
  /** Service root, e.g. `http://127.0.0.1:4711/erp`. */
  readonly url: string;
  readonly faults: FaultGate;
  /** Runs CQL against the ERP database directly (as the ERP's own users would change data). */
  readonly db: { run(query: unknown): Promise<unknown> };
  /** Counts the write requests that reached the OData service (after faults). */
  readonly writes: { count: number };
  /** Changes applied per `<Entity>:<ID>` (creates and updates that reached the database). */
  readonly changes: Map<string, number>;
  /** The last requests' media types as clients sent them (Accept, Content-Type), newest last. */
  readonly mediaTypes: { method: string; accept: string; contentType: string }[];
  close(): Promise<void>;
}

let running: ErpServer | undefined;

/** Starts CAP on a free loopback port (or `port`), with fault injection and repeatable requests. */
export async function startErpServer(options: { port?: number; host?: string } = {}): Promise<ErpServer> {
  if (running) throw new Error('one ERP server per process: CAP keeps its model and database globally');
  cds.env.requires.db = { kind: 'sqlite', impl: '@cap-js/sqlite', credentials: { url: ':memory:' } } as never;
  cds.env.log.levels = {
    ...(cds.env.log.levels ?? {}),
    cds: 'error',
    odata: 'error',
    serve: 'error',
    sqlite: 'error',
  } as never;
  const here = dirname(fileURLToPath(import.meta.url));
  const csn = await cds.load(join(here, 'model.cds'));
  cds.model = cds.compile.for.nodejs(csn);
  const db = await cds.connect.to('db');
  await cds.deploy(csn).to(db, { silent: true });

  const app = express();
  const writes = { count: 0 };
  const mediaTypes: ErpServer['mediaTypes'] = [];
  app.use((req, _res, next) => {
    if (req.method !== 'GET') writes.count += 1;
    mediaTypes.push({
      method: req.method,
      accept: req.get('accept') ?? '',
      contentType: req.get('content-type') ?? '',
    });
    if (mediaTypes.length > 50) mediaTypes.shift();
    next();
  });
  app.use(createRepeatabilityGuard());
  await cds.serve('all').from(csn).in(app);
  const changes = new Map<string, number>();
  const srv = cds.services['tributary.demo.erp.ErpService'];
  srv.after(
    ['CREATE', 'UPDATE'],
    '*',
    (_result: unknown, req: { target?: { name?: string }; data?: { ID?: string } }) => {
      const entity = String(req.target?.name ?? '')
        .split('.')
        .pop();
      const key = `${entity}:${req.data?.ID ?? ''}`;
      changes.set(key, (changes.get(key) ?? 0) + 1);
    },
  );

  const faults = createFaultGate();
  const server: Server = createServer(
    faults.wrap((req: IncomingMessage, res: ServerResponse) => app(req as never, res as never)),
  );
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const erp: ErpServer = {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/erp`,
    faults,
    db: { run: (q) => db.run(q as never) as Promise<unknown> },
    writes,
    changes,
    mediaTypes,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.disconnect?.();
      running = undefined;
    },
  };
  running = erp;
  return erp;
}
