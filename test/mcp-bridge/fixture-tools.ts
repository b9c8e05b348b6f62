import type { BridgeTool } from '../../mcp-bridge/tools.ts';
import { createPolicy } from '../../security/index.ts';

/** Test tools: a lookup analysts may call, a change only admins may call. */
export const testTools: BridgeTool[] = [
  {
    name: 'crm.contact.lookup',
    description: 'Looks up a contact by id.',
    mutating: false,
    inputSchema: {
      type: 'object',
      properties: { id: { type: 'string', description: 'Contact id' } },
      required: ['id'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { id: { type: 'string' }, caller: { type: 'string' } },
      required: ['id', 'caller'],
    },
    async run(args, context) {
      return { structuredContent: { id: String(args.id), caller: context.identity.sub } };
    },
  },
  {
    name: 'crm.contact.upsert',
    description: 'Creates or changes a contact.',
    mutating: true,
    inputSchema: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' } },
      required: ['id', 'name'],
      additionalProperties: false,
    },
    async run(args, context) {
      return { text: `upserted ${String(args.id)} as ${context.identity.sub}` };
    },
  },
];

/** Test policy: admins everything, analysts lookups only, operators lookups and hub tools. */
export const testPolicy = createPolicy({
  groups: { admins: ['admin'], analysts: ['analyst'] },
  roles: { admin: ['*'], analyst: ['*.lookup'], operator: ['*.lookup', 'hub.*'] },
});
