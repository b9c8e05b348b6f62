import type { BridgeTool } from './tools.ts';

/**
 * Tools of the bridge itself (not derived from a component). `hub.whoami` lets an agent or an
 * operator see which identity and roles the bridge verified, without any token echoed back.
 */
export const whoamiTool: BridgeTool = {
  name: 'hub.whoami',
  title: 'Who am I',
  description: 'Returns the verified identity and roles the bridge acts for in this call.',
  mutating: false,
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  outputSchema: {
    type: 'object',
    properties: {
      user: {
        type: 'string',
        description: 'Verified user name (the actor of every event this caller causes).',
      },
      roles: { type: 'array', items: { type: 'string' }, description: 'Roles from the caller’s groups.' },
      sessionId: { type: 'string', description: 'Session of the caller; `stdio` for the local operator.' },
    },
    required: ['user', 'roles', 'sessionId'],
    additionalProperties: false,
  },
  async run(_args, context) {
    const { sub, roles, sessionId } = context.identity;
    return { structuredContent: { user: sub, roles, sessionId } };
  },
};

/** The bridge's own tools. */
export const hubTools: readonly BridgeTool[] = [whoamiTool];
