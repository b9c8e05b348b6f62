import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { BridgeIdentity } from '../security/index.ts';
import { type BridgeServerDeps, createBridgeMcpServer } from './mcp-server.ts';

/**
 * The bridge over stdio: a local process talks to exactly one client (the agent that started
 * it), so there is no token; the bridge acts as the operator identity given at start, and the
 * policy still decides which tools that identity may see and call. Logs go to stderr only.
 */
export async function serveStdio(
  operator: { name: string; roles: string[] },
  deps: BridgeServerDeps,
  streams: { stdin?: Readable; stdout?: Writable } = {},
): Promise<{ close(): Promise<void> }> {
  const identity: BridgeIdentity = { sub: operator.name, roles: operator.roles, sessionId: 'stdio' };
  const mcp = createBridgeMcpServer(identity, deps);
  const transport = new StdioServerTransport(streams.stdin, streams.stdout);
  await mcp.connect(transport);
  await deps.emitAction({
    action: 'auth.login',
    actor: identity.sub,
    resource: 'mcp-bridge',
    outcome: 'succeeded',
    details: { transport: 'stdio', roles: identity.roles.join(',') },
  });
  return { close: () => mcp.close() };
}
