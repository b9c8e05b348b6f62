import type { NextFunction, Request, Response } from 'express';

/**
 * OData Repeatable Requests (OASIS, as SAP S/4HANA supports it): a client that retries a write
 * sends the same `Repeatability-Request-ID`; the server answers the retry with the first
 * answer instead of applying the change again. CAP has no built-in support, so the demo adds it.
 */
export function createRepeatabilityGuard(maxEntries = 10_000) {
  const answers = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  const inFlight = new Set<string>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = req.header('repeatability-request-id');
    if (!id || req.method === 'GET') {
      next();
      return;
    }
    const known = answers.get(id);
    if (known) {
      res.status(known.status);
      for (const [k, v] of Object.entries(known.headers)) res.setHeader(k, v);
      res.setHeader('repeatability-result', 'accepted');
      res.end(known.body);
      return;
    }
    if (inFlight.has(id)) {
      res.status(409).json({
        error: {
          code: 'REPEATABILITY_IN_PROGRESS',
          message: 'the first request with this id is still running',
        },
      });
      return;
    }
    inFlight.add(id);
    const chunks: Buffer[] = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk) chunks.push(Buffer.from(chunk as string));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as string));
      inFlight.delete(id);
      // Only settled answers are repeatable; a 5xx may be retried for real.
      if (res.statusCode < 500) {
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'etag', 'location', 'odata-version']) {
          const v = res.getHeader(h);
          if (v !== undefined) headers[h] = String(v);
        }
        answers.set(id, { status: res.statusCode, headers, body: Buffer.concat(chunks) });
        if (answers.size > maxEntries) answers.delete(answers.keys().next().value as string);
      }
      return (end as (...a: unknown[]) => Response)(chunk, ...rest);
    }) as typeof res.end;
    next();
  };
}
