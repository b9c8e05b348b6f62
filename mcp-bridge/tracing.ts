import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { contextFromHeaders, markActiveSpanFailed, withSpan } from '../platform/index.ts';

/** The parts of a tools/call request and its handler extra the span needs. */
interface CallRequest {
  params: { name: string; _meta?: Record<string, unknown> | undefined };
}
interface CallExtra {
  requestId: string | number;
  requestInfo?: { headers: Record<string, string | string[] | undefined> } | undefined;
}

/**
 * Wraps a `tools/call` handler in a SERVER span (OpenTelemetry MCP conventions) that continues
 * the caller's trace: `params._meta.traceparent`/`tracestate` when the client sent them, else the
 * HTTP `traceparent` header of the request. The command event the tool publishes, the result it
 * awaits and the audit actions of the call all carry that trace.
 */
export function tracedToolCall<R extends CallRequest, E extends CallExtra>(
  handler: (request: R, extra: E) => Promise<CallToolResult>,
): (request: R, extra: E) => Promise<CallToolResult> {
  return (request, extra) => {
    const meta = request.params._meta;
    const fromMeta =
      typeof meta?.traceparent === 'string'
        ? {
            traceparent: meta.traceparent,
            ...(typeof meta.tracestate === 'string' ? { tracestate: meta.tracestate } : {}),
          }
        : undefined;
    const name = request.params.name;
    const attributes = {
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': name,
      'jsonrpc.request.id': String(extra.requestId),
    };
    const parent = contextFromHeaders(fromMeta ?? extra.requestInfo?.headers);
    return withSpan(`tools/call ${name}`, { kind: 'server', parent, attributes }, async () => {
      const result = await handler(request, extra);
      if (result.isError)
        markActiveSpanFailed(Object.assign(new Error('tool_error'), { code: 'tool_error' }));
      return result;
    });
  };
}

/** Registers `handler` as the server's `tools/call` handler, traced as above. */
export function onToolCall(
  mcp: McpServer,
  handler: (
    request: CallToolRequest,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
  ) => Promise<CallToolResult>,
): void {
  mcp.server.setRequestHandler(CallToolRequestSchema, tracedToolCall(handler));
}
