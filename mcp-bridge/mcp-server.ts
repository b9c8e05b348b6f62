import { createHash, randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import canonicalize from 'canonicalize';
import { toHubError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { annotateActiveSpan } from '../platform/index.ts';
import type { BridgeIdentity, EmitAction, Policy, RateLimiter } from '../security/index.ts';
import { idempotencyKeyOf } from './call-id.ts';
import type { CallRegistry } from './cancellations.ts';
import { type BridgeResources, registerBridgeResources } from './resources.ts';
import type { BridgeTaskStore } from './task-store.ts';
import type { BridgeTool, ToolCallContext } from './tools.ts';
import { onToolCall } from './tracing.ts';

/**
 * The MCP server one caller sees: built per caller (per HTTP request, or once for stdio) so
 * `tools/list` holds only the tools the caller's roles allow, and `tools/call` checks again,
 * validates the arguments, rate-limits per user and reports every call and denial as an audit
 * action. Tools come with JSON Schemas derived from Avro, so the low-level request handlers are
 * used instead of McpServer.registerTool, which wants zod shapes.
 */

export interface BridgeServerDeps {
  tools: readonly BridgeTool[];
  policy: Policy;
  emitAction: EmitAction;
  logger: Logger;
  /** Counts tool calls per user; omitted for stdio (the local operator). */
  callLimiter?: RateLimiter;
  /** Cross-instance cancellation (HTTP); stdio cancels through the SDK's own signal. */
  calls?: CallRegistry;
  /** Schemas and topology as MCP resources, for callers with at least one role. */
  resources?: BridgeResources;
  /** Lets clients run tool calls as MCP tasks (HTTP: a Redis store shared by all instances). */
  taskStore?: BridgeTaskStore;
  serverName?: string;
  serverVersion?: string;
}

const validator = new AjvJsonSchemaValidator();
const compiled = new WeakMap<BridgeTool, JsonSchemaValidator<unknown>>();

function validatorFor(tool: BridgeTool): JsonSchemaValidator<unknown> {
  let check = compiled.get(tool);
  if (!check) {
    check = validator.getValidator(tool.inputSchema as Parameters<typeof validator.getValidator>[0]);
    compiled.set(tool, check);
  }
  return check;
}

/** Hex SHA-256 of the canonical JSON (RFC 8785) of tool arguments, for the audit. */
export function argumentsDigest(args: unknown): string {
  return createHash('sha256')
    .update(canonicalize(args ?? {}) ?? '')
    .digest('hex');
}

function describeTool(tool: BridgeTool, tasks: boolean): Tool {
  return {
    ...(tasks ? { execution: { taskSupport: 'optional' as const } } : {}),
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: tool.inputSchema as Tool['inputSchema'],
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Tool['outputSchema'] } : {}),
    annotations: { readOnlyHint: !tool.mutating, destructiveHint: tool.mutating, openWorldHint: true },
  };
}

/** Builds the MCP server for one verified caller. */
export function createBridgeMcpServer(identity: BridgeIdentity, deps: BridgeServerDeps): McpServer {
  const mcp = new McpServer(
    { name: deps.serverName ?? 'tributary-mcp-bridge', version: deps.serverVersion ?? '0.1.0' },
    {
      capabilities: {
        tools: { listChanged: false },
        ...(deps.taskStore ? { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } } : {}),
      },
      ...(deps.taskStore ? { taskStore: deps.taskStore } : {}),
    },
  );
  // Reading the hub's shape is for people the policy gives some role; a role-less user sees nothing.
  if (deps.resources && identity.roles.length > 0) registerBridgeResources(mcp, deps.resources);
  const visible = () => deps.tools.filter((tool) => deps.policy.allows(identity.roles, tool.name));

  mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: visible().map((tool) => describeTool(tool, deps.taskStore !== undefined)),
  }));

  // A SERVER span per call, continuing the caller's trace (tracing.ts).
  onToolCall(mcp, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    const argsDigest = argumentsDigest(args);
    const correlationId = randomUUID();
    annotateActiveSpan({ 'tributary.correlation.id': correlationId });
    const audit = (outcome: 'succeeded' | 'failed' | 'denied', details: Record<string, string>) =>
      deps.emitAction({
        action: 'mcp.tool.call',
        actor: identity.sub,
        resource: name,
        outcome,
        argsDigest,
        correlationId,
        details: { ...details, sessionId: identity.sessionId },
      });

    const tool = deps.tools.find((t) => t.name === name);
    if (!tool || !deps.policy.allows(identity.roles, name)) {
      await audit('denied', {
        reason: tool ? 'not-permitted' : 'unknown-tool',
      });
      // Same answer for unknown and forbidden tools, so callers cannot probe for tools they may not use.
      throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found or not permitted for your roles`);
    }
    if (deps.callLimiter) {
      const limit = await deps.callLimiter.hit(`tools:${identity.sub}`);
      if (!limit.allowed) {
        await audit('denied', { reason: 'rate-limited' });
        throw new McpError(-32029, `rate limit reached; retry in ${Math.ceil(limit.retryAfterMs / 1000)} s`, {
          retryAfterMs: limit.retryAfterMs,
        });
      }
    }
    const check = validatorFor(tool)(args);
    if (!check.valid) {
      await audit('failed', { reason: 'invalid-arguments' });
      throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for ${name}: ${check.errorMessage}`);
    }
    const idempotencyKey = idempotencyKeyOf(request.params._meta, extra.requestInfo?.headers);
    const progressToken = request.params._meta?.progressToken;
    const taskStore = request.params.task ? deps.taskStore : undefined;
    let taskId: string | undefined;
    // Aborted by the SDK (connection closed, stdio cancel) or by a cancel at any instance. A task
    // outlives its HTTP request, so only an explicit cancel (tasks/cancel) stops it.
    const cancelled = new AbortController();
    const abort = () => cancelled.abort();
    if (!taskStore) {
      extra.signal.addEventListener('abort', abort, { once: true });
      if (extra.signal.aborted) abort();
    }
    const context: ToolCallContext = {
      identity,
      signal: cancelled.signal,
      correlationId,
      ...(idempotencyKey ? { idempotencyKey } : {}),
      async progress(progress, total, message) {
        // A task's client polls instead of listening: progress becomes the task's status message.
        if (taskStore && taskId) {
          const percent = total ? ` (${Math.round((progress / total) * 100)}%)` : '';
          await taskStore.updateTaskStatus(taskId, 'working', `${message ?? 'working'}${percent}`);
          return;
        }
        if (progressToken === undefined) return;
        await extra.sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken,
            progress,
            ...(total === undefined ? {} : { total }),
            ...(message ? { message } : {}),
          },
        });
      },
    };
    const execute = async (scope: string, key: string | number): Promise<CallToolResult> => {
      const untrack = deps.calls?.track(scope, key, cancelled);
      try {
        const outcome = await tool.run(args, context);
        await audit(outcome.isError ? 'failed' : 'succeeded', taskId ? { taskId } : {});
        const text = outcome.text ?? JSON.stringify(outcome.structuredContent ?? {});
        return {
          content: [{ type: 'text', text }],
          ...(outcome.structuredContent ? { structuredContent: outcome.structuredContent } : {}),
          ...(outcome.isError ? { isError: true } : {}),
        };
      } catch (err) {
        const hubError = toHubError(err, 'TOOL_FAILED');
        deps.logger.warn({ tool: name, user: identity.sub, err: hubError.toJSON() }, 'tool call failed');
        await audit('failed', { code: hubError.code });
        return { content: [{ type: 'text', text: `${hubError.code}: ${hubError.message}` }], isError: true };
      } finally {
        untrack?.();
        extra.signal.removeEventListener('abort', abort);
      }
    };
    if (!taskStore) return await execute(identity.sessionId, extra.requestId);

    const ttl = request.params.task?.ttl;
    const task = await taskStore.createTask(
      { ...(ttl ? { ttl } : {}), pollInterval: 500 },
      extra.requestId,
      request,
    );
    taskId = task.taskId;
    const id = task.taskId;
    void execute('task', id)
      .then((result) => taskStore.storeTaskResult(id, result.isError ? 'failed' : 'completed', result))
      .catch((err: unknown) => deps.logger.warn({ err, taskId: id }, 'task result not stored (cancelled?)'));
    // The SDK's tools/call wrapper validates this as a CreateTaskResult when a task was asked for.
    return { task } as unknown as CallToolResult;
  });
  return mcp;
}
