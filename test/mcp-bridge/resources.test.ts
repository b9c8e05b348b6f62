import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../schemas/index.ts';
import { type BridgeFixture, startBridgeFixture } from './fixture.ts';

describe('schemas and topology as MCP resources', () => {
  let fx: BridgeFixture;
  const topology = { topics: [{ name: 'crm.contact.changed', partitions: 3 }] };
  beforeAll(async () => {
    const catalog = await loadCatalog();
    fx = await startBridgeFixture({}, { resources: { catalog, topology: () => topology } });
  });
  afterAll(() => fx?.close());

  it('lists every catalog schema and reads one, self-contained', async () => {
    const bob = await fx.connect((await fx.loginOk('bob', 'bob-secret-2')).accessToken);
    const { resources } = await bob.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain('tributary://schemas/tributary.crm.ContactUpsert');
    expect(uris).toContain('tributary://topology');
    const read = await bob.readResource({ uri: 'tributary://schemas/tributary.crm.ContactUpsert' });
    const schema = JSON.parse(String((read.contents[0] as { text: string }).text));
    expect(schema.name).toBe('ContactUpsert');
    // The shared envelope is inlined, so the schema parses on its own.
    expect(JSON.stringify(schema)).toContain('"name":"Envelope"');
    const topo = await bob.readResource({ uri: 'tributary://topology' });
    expect(JSON.parse(String((topo.contents[0] as { text: string }).text))).toEqual(topology);
  });

  it('offers nothing to a user without roles', async () => {
    const carol = await fx.connect((await fx.loginOk('carol', 'carol-secret-3')).accessToken);
    await expect(carol.listResources()).rejects.toThrow();
    await expect(carol.readResource({ uri: 'tributary://topology' })).rejects.toThrow();
  });
});
