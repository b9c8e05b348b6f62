import { describe, expect, it } from 'vitest';
import { mcpBridgeDeclaration } from '../../mcp-bridge/declaration.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { loadCatalog } from '../../schemas/index.ts';

describe('the MCP bridge declaration', () => {
  const processor = {
    name: 'processor.test',
    kind: 'processor',
    description: 'test',
    topics: [
      { name: 'media.thing.req', description: 'req', valueSchema: 'tributary.media.ImageAnalyzeRequest' },
      { name: 'media.thing.res', description: 'res', valueSchema: 'tributary.media.ImageAnalyzeResult' },
    ],
    produces: [],
    consumes: [],
    commands: [
      {
        name: 'thing.do',
        description: 'd',
        topic: 'media.thing.req',
        resultTopic: 'media.thing.res',
        mutating: false,
      },
    ],
  } as unknown as ComponentDeclaration<unknown>;

  it('derives what it produces and consumes from the other components’ commands', async () => {
    const all: ComponentDeclaration<unknown>[] = [];
    const bridge = mcpBridgeDeclaration(() => all) as unknown as ComponentDeclaration<unknown>;
    all.push(processor, bridge);
    expect(bridge.produces).toEqual(['hub.actions', 'mcp.tool.cancelled', 'media.thing.req']);
    expect(bridge.consumes).toEqual(['media.thing.res']);
    const [cancel] = bridge.topics;
    expect(cancel?.name).toBe('mcp.tool.cancelled');
    expect((await loadCatalog()).has(cancel?.valueSchema ?? '')).toBe(true);
    expect(bridge.config.parse({})).toMatchObject({ port: 7300, algorithm: 'ES256', toolTimeoutMs: 60_000 });
  });
});
