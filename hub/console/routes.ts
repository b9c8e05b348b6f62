import { HubError, toHubError } from '../../core/errors.ts';
import type { Answer, RouteRequest } from '../http.ts';
import type { ConsoleOperations, LetterPosition } from './operations.ts';
import { buildOverview, type OverviewSource } from './overview.ts';
import { consolePage } from './page.ts';

type Route = (request: RouteRequest) => Promise<Answer>;

const json = (status: number, body: unknown): Answer => ({
  status,
  type: 'application/json',
  body: JSON.stringify(body),
});

/** A HubError as a JSON answer naming what was wrong and where (4xx unless the hub failed). */
function failure(err: unknown): Answer {
  const e = toHubError(err);
  const status =
    e.code.endsWith('_MISSING') || e.code.startsWith('CONSOLE_UNKNOWN') ? 404 : e.retriable ? 503 : 400;
  return json(status, { error: e.message, code: e.code, ...(e.where ? { where: e.where } : {}) });
}

/** Runs `fn` with the operations once the hub reached Kafka; 503 before. */
const withOps =
  (
    ops: () => ConsoleOperations | undefined,
    fn: (o: ConsoleOperations, r: RouteRequest) => Promise<unknown>,
  ): Route =>
  async (request) => {
    const o = ops();
    if (!o) return json(503, { error: 'the hub has not reached Kafka yet' });
    try {
      return json(200, await fn(o, request));
    } catch (err) {
      return failure(err);
    }
  };

/** A string field of a POST body, or a 400 naming the field. */
function field(body: unknown, name: string, allowed?: readonly string[]): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string' || value === '' || (allowed && !allowed.includes(value)))
    throw new HubError(
      'CONSOLE_BAD_REQUEST',
      `body field "${name}" must be ${allowed ? `one of ${allowed.join(', ')}` : 'a non-empty string'}`,
    );
  return value;
}

/** The one dead letter a redrive names (`partition` and `offset`), or undefined for all of them. */
function position(body: unknown): LetterPosition | undefined {
  const { partition, offset } = (body ?? {}) as { partition?: unknown; offset?: unknown };
  if (partition === undefined && offset === undefined) return undefined;
  if (!Number.isInteger(partition) || (partition as number) < 0)
    throw new HubError('CONSOLE_BAD_REQUEST', 'body field "partition" must be a partition number');
  if (typeof offset !== 'string' || !/^\d+$/.test(offset))
    throw new HubError('CONSOLE_BAD_REQUEST', 'body field "offset" must be an offset as a string of digits');
  return { partition: partition as number, offset };
}

/** The console's routes on the health server: the page, its data, the topology picture and its actions. */
export function consoleRoutes(
  source: OverviewSource & {
    topologySvg: () => Promise<string> | undefined;
    operations: () => ConsoleOperations | undefined;
  },
): { routes: Record<string, Route>; postRoutes: Record<string, Route> } {
  const page = consolePage();
  const ops = source.operations;
  return {
    routes: {
      '/': async () => ({ status: 200, type: 'text/html; charset=utf-8', body: page }),
      '/api/overview': async () => json(200, buildOverview(source)),
      '/api/topology.svg': async () => {
        const svg = source.topologySvg();
        if (!svg)
          return { status: 503, type: 'text/plain', body: 'the topology is drawn once Kafka is reached' };
        try {
          return { status: 200, type: 'image/svg+xml', body: await svg };
        } catch (err) {
          return {
            status: 500,
            type: 'text/plain',
            body: `cannot draw the topology: ${(err as Error).message}`,
          };
        }
      },
      '/api/dlq': withOps(ops, (o) => o.dlqTopics()),
      '/api/dlq/records': withOps(ops, (o, r) => {
        const topic = r.query.get('topic');
        if (!topic) throw new HubError('CONSOLE_BAD_REQUEST', 'query parameter "topic" is missing');
        const limit = Number(r.query.get('limit') ?? '50');
        return o.dlqRecords(topic, Number.isInteger(limit) && limit > 0 ? Math.min(limit, 500) : 50);
      }),
      '/api/audit': withOps(ops, (o) => o.auditStatus()),
      '/api/connectors': withOps(ops, async (o) => o.connectors()),
    },
    postRoutes: {
      '/api/dlq/redrive': withOps(ops, (o, r) => {
        const where = (r.body as { where?: unknown } | undefined)?.where ?? [];
        if (!Array.isArray(where) || where.some((w) => typeof w !== 'string'))
          throw new HubError(
            'CONSOLE_BAD_REQUEST',
            'body field "where" must be a list of code=… or stage=… strings',
          );
        return o.redrive(field(r.body, 'topic'), where as string[], position(r.body));
      }),
      '/api/connectors/control': withOps(ops, async (o, r) => {
        const connector = field(r.body, 'connector');
        const command = field(r.body, 'command', ['pause', 'resume']) as 'pause' | 'resume';
        await o.control(connector, command);
        return { connector, command, sent: true };
      }),
    },
  };
}
