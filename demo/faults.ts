import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Fault injection in front of a demo system's HTTP handler, so tests (and a curious newcomer)
 * can make a real server misbehave the way production systems do: slow answers, 5xx, 429 with
 * Retry-After, connection resets, half a response, or a request that is applied but whose answer
 * is lost (the case idempotency keys exist for).
 */
export type Fault =
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'rate-limit'; retryAfterSeconds: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'reset' }
  | { kind: 'half-response' }
  | { kind: 'apply-then-drop' };

interface Armed {
  fault: Fault;
  remaining: number;
  match: ((req: IncomingMessage) => boolean) | undefined;
}

export interface FaultGate {
  /** Arms `fault` for the next `times` requests that match (all requests when no matcher). */
  inject(fault: Fault, times?: number, match?: (req: IncomingMessage) => boolean): void;
  /** Disarms every fault. */
  clear(): void;
  /** How many requests each fault kind has hit so far. */
  readonly hits: Record<string, number>;
  /** Wraps a request handler so armed faults run before it. */
  wrap(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ): (req: IncomingMessage, res: ServerResponse) => void;
}

/** Builds an empty fault gate. */
export function createFaultGate(): FaultGate {
  const armed: Armed[] = [];
  const hits: Record<string, number> = {};

  const take = (req: IncomingMessage): Fault | undefined => {
    const i = armed.findIndex((a) => a.remaining > 0 && (a.match ? a.match(req) : true));
    if (i < 0) return undefined;
    const a = armed[i]!;
    a.remaining -= 1;
    if (a.remaining <= 0) armed.splice(i, 1);
    hits[a.fault.kind] = (hits[a.fault.kind] ?? 0) + 1;
    return a.fault;
  };

  return {
    hits,
    inject(fault, times = 1, match) {
      armed.push({ fault, remaining: times, match });
    },
    clear() {
      armed.length = 0;
    },
    wrap(handler) {
      return (req, res) => {
        const fault = take(req);
        if (!fault) return handler(req, res);
        switch (fault.kind) {
          case 'status':
            res.writeHead(fault.status, { 'content-type': 'application/json' });
            res.end(
              fault.body ??
                JSON.stringify({ error: { code: String(fault.status), message: 'injected fault' } }),
            );
            return;
          case 'rate-limit':
            res.writeHead(429, {
              'retry-after': String(fault.retryAfterSeconds),
              'content-type': 'application/json',
            });
            res.end(JSON.stringify({ error: { code: '429', message: 'too many requests (injected)' } }));
            return;
          case 'slow': {
            const timer = setTimeout(() => handler(req, res), fault.delayMs);
            res.on('close', () => clearTimeout(timer));
            return;
          }
          case 'reset':
            req.socket.destroy();
            return;
          case 'half-response':
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
            res.write('{"value":[{"ID":"half');
            setTimeout(() => req.socket.destroy(), 5);
            return;
          case 'apply-then-drop': {
            // Let the system apply the request, then lose its answer on the way back.
            const socket = req.socket;
            res.write = (() => true) as typeof res.write;
            res.end = (() => {
              socket.destroy();
              return res;
            }) as typeof res.end;
            return handler(req, res);
          }
        }
      };
    },
  };
}
