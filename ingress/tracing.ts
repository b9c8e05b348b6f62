import type { IncomingMessage, ServerResponse } from 'node:http';
import { contextFromHeaders, markActiveSpanFailed, withSpan } from '../platform/index.ts';

/** The route template of a path, for span names of low cardinality (OpenTelemetry HTTP conventions). */
function routeOf(path: string): string | undefined {
  if (path.startsWith('/v1/events/')) return '/v1/events/{type}';
  if (path.startsWith('/v1/topics/')) return '/v1/topics/{topic}/events';
  if (path === '/openapi.json' || path.startsWith('/auth/') || path.startsWith('/.well-known/')) return path;
  return undefined;
}

/**
 * Serves one request inside a SERVER span that continues the client's `traceparent` (a new
 * trace without one); the event a publish writes carries the span's context.
 */
export function tracedRequest(
  req: IncomingMessage,
  res: ServerResponse,
  serve: () => Promise<void>,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://ingress').pathname;
  const route = routeOf(path);
  const attributes = {
    'http.request.method': method,
    'url.path': path,
    ...(route ? { 'http.route': route } : {}),
  };
  const name = route ? `${method} ${route}` : method;
  return withSpan(
    name,
    { kind: 'server', parent: contextFromHeaders(req.headers), attributes },
    async (span) => {
      await serve();
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500)
        markActiveSpanFailed(
          Object.assign(new Error(`answered ${res.statusCode}`), { code: String(res.statusCode) }),
        );
    },
  );
}
